import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/client.ts';
import { backup } from '../../server/ops/backup.ts';
import { makeDataDir } from '../helpers/app.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function runScript(name: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', `${name}.ts`), ...args], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: '/nonexistent-kho-data-dir', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => res({ code, stdout, stderr }));
  });
}

describe('operator scripts: usage and the data dir', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeDataDir();
    openDatabase(join(dir, 'kho.sqlite')).close();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reindex, rederive and backup refuse a data dir without a database (exit 2, no stack trace, nothing created)', async () => {
    const missing = join(dir, 'go-nhầm');
    const results = await Promise.all([
      runScript('reindex', ['--data-dir', missing]),
      runScript('rederive', ['--data-dir', missing]),
      runScript('backup', [join(dir, 'bk'), '--data-dir', missing]),
    ]);
    for (const r of results) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`error: no database at ${join(missing, 'kho.sqlite')}`);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
    expect(existsSync(missing)).toBe(false);
  });

  it('backup, verify and import refuse a --concurrency that is not a whole number 1..64 (exit 2)', async () => {
    const results = await Promise.all([
      runScript('backup', [join(dir, 'bk-c'), '--data-dir', dir, '--concurrency', 'x']),
      runScript('verify', ['--data-dir', dir, '--concurrency', '0']),
      runScript('verify', ['--data-dir', dir, '--concurrency', '1.5']),
      runScript('import', [dir, '--manifest', join(dir, 'kho.sqlite'), '--data-dir', dir, '--concurrency', '1000000']),
    ]);
    for (const r of results) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('--concurrency must be a whole number 1..64');
    }
    expect(existsSync(join(dir, 'bk-c'))).toBe(false);
  });

  it('restore refuses a bad --concurrency and a --snapshot the backup does not hold as usage errors (exit 2), before touching the data dir', async () => {
    const src = join(dir, 'bản sao lưu');
    await mkdir(join(src, 'snapshots', '20260101-000000'), { recursive: true });
    const target = join(dir, 'khôi phục');
    const [conc, snap] = await Promise.all([
      runScript('restore', [src, '--snapshot', '20260101-000000', '--concurrency', 'bốn', '--data-dir', target]),
      runScript('restore', [src, '--snapshot', '20991231-000000', '--data-dir', target]),
    ]);
    expect(conc.code, conc.stderr).toBe(2);
    expect(conc.stderr).toContain('--concurrency must be a whole number 1..64');
    expect(snap.code, snap.stderr).toBe(2);
    expect(snap.stderr).toContain(`error: no snapshot "20991231-000000" in ${src}`);
    for (const r of [conc, snap]) expect(r.stderr).toContain('usage: npm run restore');
    expect(existsSync(target)).toBe(false);
  });

  it('backup, restore and import name the bad path instead of failing with a stack trace or saying nothing', async () => {
    const file = join(dir, 'tệp thường');
    await writeFile(file, 'x');
    const [backup, list, report] = await Promise.all([
      runScript('backup', [file, '--data-dir', dir]),
      runScript('restore', [join(dir, 'không có'), '--list']),
      runScript('import', [dir, '--manifest', file, '--report', join(dir, 'không có', 'r.json'), '--data-dir', dir]),
    ]);
    expect([backup.code, list.code, report.code]).toEqual([2, 2, 2]);
    expect(backup.stderr).toContain(`error: ${file} is not a folder`);
    expect(list.stderr).toContain(`error: no backup folder at ${join(dir, 'không có')}`);
    expect(report.stderr).toContain(`error: the folder of --report ${join(dir, 'không có', 'r.json')} does not exist`);
    for (const r of [backup, list, report]) expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('backup refuses a backup folder inside the data dir (or the data dir itself) as bad usage, creating nothing', async () => {
    const results = await Promise.all([
      runScript('backup', [join(dir, 'sao lưu'), '--data-dir', dir]),
      runScript('backup', [dir, '--data-dir', dir]),
      runScript('backup', [join(dir, 'blobs'), '--data-dir', join(dir, '.')]),
    ]);
    for (const r of results) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/error: the backup folder .* is inside the data dir .*: back up to a folder outside it/);
    }
    expect(existsSync(join(dir, 'sao lưu'))).toBe(false);
    expect(existsSync(join(dir, 'snapshots'))).toBe(false);
    expect(existsSync(join(dir, 'blobs', 'snapshots'))).toBe(false);
  });

  it('every refusal about what the command names is bad usage (exit 2, the error and the usage): restore into a folder that is not empty or not a folder, from one that is no backup; a --kind or --sha rederive refuses; an account or token that does not exist; an unknown bench part', async () => {
    const bk = `${dir}-bản sao`;
    await backup({ dataDir: dir, dest: bk });
    const full = join(dir, 'kho đang dùng');
    await mkdir(full);
    await writeFile(join(full, 'ghi chú.txt'), 'Dữ liệu đang dùng');
    const file = join(dir, 'một tệp');
    await writeFile(file, 'x');
    const noBackup = join(dir, 'không phải bản sao');
    await mkdir(noBackup);
    const bare = join(dir, 'chỉ có cơ sở dữ liệu');
    await mkdir(bare);
    openDatabase(join(bare, 'kho.sqlite')).close();
    const results = await Promise.all([
      runScript('restore', [bk, '--data-dir', full, '--quiet']),
      runScript('restore', [bk, '--data-dir', file, '--quiet']),
      runScript('restore', [noBackup, '--data-dir', join(dir, 'mới')]),
      runScript('restore', [bk, '--list', '--snapshot', '20260101T000000Z']),
      runScript('rederive', ['--data-dir', bare, '--kind', 'phim']),
      runScript('rederive', ['--data-dir', bare, '--resniff', '--sha', 'abc']),
      runScript('user', ['set-password', '--username', 'không-có', '--data-dir', dir]),
      runScript('user', ['disable', '--username', 'khong-co', '--data-dir', dir]),
      runScript('token', ['list', '--user', 'khong-co', '--data-dir', dir]),
      runScript('token', ['revoke', '--id', '999', '--data-dir', dir]),
      runScript('bench', ['--only', 'tìm-kiếm']),
      runScript('bench', ['--bogus']),
    ]);
    const messages = [
      `error: the data dir ${full} is not empty: restore only into an empty (or new) folder`,
      `error: the data dir ${file} is not a folder`,
      `error: ${noBackup} holds no LATEST snapshot: is it a folder written by npm run backup?`,
      'error: --list and --snapshot do not go together',
      'error: --kind must be one of pdf, image, video, audio, office, text',
      'error: --sha must be a SHA-256 in hex',
      'error: no user "không-có" (--username)',
      'error: no user "khong-co" (--username)',
      'error: no user "khong-co" (--user)',
      'error: no token with id 999 (npm run token -- list shows them)',
      'error: unknown part "tìm-kiếm" (one of ingest, derivatives, search, operations)',
      "error: Unknown option '--bogus'",
    ];
    results.forEach((r, i) => {
      const out = r.stdout + r.stderr;
      expect(r.code, out).toBe(2);
      expect(out).toContain(messages[i]);
      expect(out).toMatch(/^usage/m);
      expect(out).not.toMatch(/^\s+at /m);
    });
    // Nothing touched: the folder in use keeps its one file, the refused rederive opened no store.
    expect(await readdir(full)).toEqual(['ghi chú.txt']);
    expect(existsSync(join(dir, 'mới'))).toBe(false);
    expect((await readdir(bare)).sort()).toEqual(['kho.sqlite']);
    await rm(bk, { recursive: true, force: true });
  }, 120_000);

  it('reindex takes --data-dir and --help, and refuses unknown options', async () => {
    const [ok, help, bad] = await Promise.all([
      runScript('reindex', ['--data-dir', dir, '--quiet']),
      runScript('reindex', ['--help']),
      runScript('reindex', ['--bogus']),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`search index rebuilt: 0 products, 0 text pages`);
    expect(ok.stdout).toContain(join(dir, 'kho.sqlite'));
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run reindex/);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`Unknown option '--bogus'`);
  });
});

/**
 * A read-only disk: a small tmpfs mounted read-only in a temp folder. Mounting needs root (as in CI
 * here); where it is refused the test is skipped, saying so.
 */
function mountReadOnly(at: string): boolean {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', at], { encoding: 'utf8' });
  return r.status === 0;
}

describe('operator scripts on a read-only disk', () => {
  let dir: string;
  let ro: string;
  let mounted = false;
  beforeAll(async () => {
    dir = await makeDataDir();
    openDatabase(join(dir, 'kho.sqlite')).close();
    ro = `${dir}-chỉ đọc`;
    await mkdir(ro);
    mounted = mountReadOnly(ro);
    if (!mounted) console.warn('read-only disk tests skipped: mount refused (not root?)');
  });
  afterAll(async () => {
    if (mounted) spawnSync('umount', [ro]);
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-bản sao tốt`, { recursive: true, force: true });
    await rm(ro, { recursive: true, force: true });
  });

  it('backup and restore say the disk is read-only (Node alone says "no such file or directory"); import refuses a report it could not write before importing anything', async (ctx) => {
    if (!mounted) ctx.skip();
    const folder = join(dir, 'hồ sơ');
    await mkdir(folder);
    await writeFile(join(folder, 'a.txt'), 'Báo cáo tổng kết công tác tuyên truyền năm 2023');
    await writeFile(join(dir, 'ds.csv'), 'Tệp,Tiêu đề,Loại\na.txt,Báo cáo tổng kết,tài liệu\n');
    const good = await runScript('backup', [`${dir}-bản sao tốt`, '--data-dir', dir, '--quiet']);
    expect(good.code, good.stderr).toBe(0);
    const [bk, rs, im] = await Promise.all([
      runScript('backup', [join(ro, 'bản sao'), '--data-dir', dir, '--quiet']),
      runScript('restore', [`${dir}-bản sao tốt`, '--data-dir', join(ro, 'khôi phục'), '--quiet']),
      runScript('import', [folder, '--manifest', join(dir, 'ds.csv'), '--data-dir', dir, '--report', join(ro, 'báo cáo.json'), '--quiet']),
    ]);
    expect(bk.code, bk.stderr).toBe(1);
    expect(bk.stderr).toContain(`error: cannot create ${join(ro, 'bản sao')}: ${ro} is on a read-only file system`);
    expect(bk.stderr).not.toMatch(/^\s+at /m);
    expect(rs.code, rs.stderr).toBe(1);
    expect(rs.stderr).toContain(`error: cannot create ${join(ro, 'khôi phục')}: ${ro} is on a read-only file system`);
    expect(im.code, im.stderr).toBe(2);
    expect(im.stderr).toContain(`error: the report cannot be written in ${ro}: it is on a read-only file system; choose another place with --report <file>`);
    const db = openDatabase(join(dir, 'kho.sqlite'), { migrate: false });
    expect((db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n).toBe(0);
    db.close();
  });
});
