/**
 * Folders an operator names (a backup folder, a restore target, DATA_DIR) are made component by
 * component (server/storage/make-dirs.ts), never with Node's recursive mkdir, which loops forever
 * on a path under /proc (`mkdirSync('/proc/nope/x', { recursive: true })` never returns). Each
 * script and the server must answer such a path at once, naming the folder and the reason.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, SERVER_ENTRY, SERVER_NODE_ARGS } from '../../scripts/build.mjs';
import { openDatabase } from '../../server/db/client.ts';
import { backup } from '../../server/ops/backup.ts';
import { makeDirs, makeDirsSync } from '../../server/storage/make-dirs.ts';
import { makeDataDir } from '../helpers/app.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** Long enough for a slow start on a shared machine; a recursive mkdir under /proc never ends. */
const HANG_MS = 25_000;

/** Run a node program until it exits or HANG_MS pass (then it is killed and `code` is null). */
function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent', JOB_WORKERS: '0', SEARCH_WORKERS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
  return new Promise((res) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr, ms: Date.now() - started });
    }),
  );
}
const script = (name: string, args: string[], env: Record<string, string> = {}) => run(['--import', 'tsx', join(ROOT, 'scripts', `${name}.ts`), ...args], env);

const PROC_REASON = 'the file system of /proc does not take new folders';

describe('makeDirs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeDataDir();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('makes every missing folder of a path with spaces and Vietnamese letters, again without harm, and many at once', async () => {
    const deep = join(dir, 'sao lưu', 'Kho tư liệu', 'năm 2026');
    await makeDirs(deep);
    await makeDirs(deep);
    makeDirsSync(join(deep, 'đồng bộ'));
    expect(statSync(join(deep, 'đồng bộ')).isDirectory()).toBe(true);
    await Promise.all(Array.from({ length: 16 }, (_, i) => makeDirs(join(dir, 'cùng lúc', 'a', 'b', String(i % 3)))));
    for (const i of [0, 1, 2]) expect(statSync(join(dir, 'cùng lúc', 'a', 'b', String(i))).isDirectory()).toBe(true);
  });

  it('ends with a clear error under /proc instead of looping (async and sync)', async () => {
    await expect(makeDirs('/proc/nope/x')).rejects.toMatchObject({ code: 'ENOENT', syscall: 'mkdir', path: '/proc/nope', message: `cannot create /proc/nope: ${PROC_REASON} (a virtual one, such as /proc?)` });
    expect(() => makeDirsSync('/proc/nope/x')).toThrow(`cannot create /proc/nope: ${PROC_REASON}`);
    // A folder of /proc that exists, and one below it.
    await makeDirs('/proc/self');
    await expect(makeDirs('/proc/self/snapshots')).rejects.toMatchObject({ code: 'ENOENT', message: `cannot create /proc/self/snapshots: the file system of /proc/self does not take new folders (a virtual one, such as /proc?)` });
  });

  it('names a file in the way, at the end of the path or on the way to it', async () => {
    const file = join(dir, 'ghi chú.txt');
    await writeFile(file, 'Không phải thư mục');
    await expect(makeDirs(file)).rejects.toMatchObject({ code: 'ENOTDIR', message: `cannot create ${file}: a file of that name is in the way (it is not a folder)` });
    await expect(makeDirs(join(file, 'a', 'b'))).rejects.toMatchObject({ code: 'ENOTDIR', message: `cannot create ${join(file, 'a', 'b')}: ${file} is a file, not a folder` });
    expect(() => makeDirsSync(join(file, 'a'))).toThrow(`${file} is a file, not a folder`);
  });
});

describe('scripts and the server given a folder under /proc', () => {
  let dir: string;
  let bk: string;
  beforeAll(async () => {
    build();
    dir = await makeDataDir();
    openDatabase(join(dir, 'kho.sqlite')).close();
    bk = `${dir}-bản sao`;
    await backup({ dataDir: dir, dest: bk });
    await mkdir(join(dir, 'hồ sơ'));
    await writeFile(join(dir, 'hồ sơ', 'a.txt'), 'Báo cáo tổng kết công tác tuyên truyền năm 2023');
    await writeFile(join(dir, 'ds.csv'), 'Tệp,Tiêu đề,Loại\na.txt,Báo cáo tổng kết,tài liệu\n');
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(bk, { recursive: true, force: true });
  });

  it('backup, restore, import, user and the server answer at once: exit 1, the folder and the reason, no stack trace', async () => {
    const [bkp, rst, imp, usr, srv] = await Promise.all([
      script('backup', ['/proc/nope/sao lưu', '--data-dir', dir, '--quiet']),
      script('restore', [bk, '--data-dir', '/proc/nope/khôi phục', '--quiet']),
      script('import', [join(dir, 'hồ sơ'), '--manifest', join(dir, 'ds.csv'), '--data-dir', '/proc/nope/kho', '--report', join(dir, 'r.json'), '--quiet']),
      script('user', ['list', '--data-dir', '/proc/nope/kho']),
      run([...SERVER_NODE_ARGS, SERVER_ENTRY], { DATA_DIR: '/proc/nope/kho', HOST: '127.0.0.1', PORT: '0' }),
    ]);
    for (const [r, out] of [[bkp, bkp.stderr], [rst, rst.stderr], [imp, imp.stderr], [usr, usr.stdout], [srv, srv.stderr]] as const) {
      expect(r.code, `${r.stdout}\n${r.stderr}\n(${r.ms} ms)`).toBe(1);
      expect(out).toContain(`cannot create /proc/nope: ${PROC_REASON}`);
      expect(out).not.toMatch(/^\s+at /m);
    }
    expect(srv.stderr).toContain('Cannot use DATA_DIR (/proc/nope/kho): cannot create /proc/nope');
    expect(existsSync(join(dir, 'r.json'))).toBe(false);
  }, 60_000);

  it('backup names a file in the way of the backup folder', async () => {
    const file = `${dir}-ghi chú.txt`;
    await writeFile(file, 'Không phải thư mục');
    const r = await script('backup', [join(file, 'sao lưu'), '--data-dir', dir, '--quiet']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`error: cannot create ${join(file, 'sao lưu', 'snapshots')}: ${file} is a file, not a folder`);
    await rm(file);
  }, 40_000);
});
