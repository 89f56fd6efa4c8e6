import { spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/client.ts';
import { blobRel } from '../../server/ops/hash.ts';
import { makeDataDir } from '../helpers/app.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('verify: files in blobs/ that are no blob', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeDataDir();
    openDatabase(join(dir, 'kho.sqlite')).close();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const verify = () =>
    spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/verify.ts'), '--data-dir', dir, '--quiet'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DATA_DIR: '' } });

  it('an empty store passes', () => {
    const r = verify();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('missing: 0, corrupt: 0, orphans: 0, stray files: 0');
  });

  it('reports a file whose name is not a SHA-256, a blob in the wrong folder and a stray folder (exit 1), each by its path', async () => {
    const blobs = join(dir, 'blobs');
    await mkdir(join(blobs, 'ab', 'cd'), { recursive: true });
    await writeFile(join(blobs, 'ab', 'cd', 'Báo cáo tổng kết.docx'), 'tệp lạc chỗ');
    // A SHA-256 name, but not in the folder its first four digits name.
    const misplaced = 'ef'.repeat(32);
    await writeFile(join(blobs, 'ab', 'cd', misplaced), 'bản sao chép nhầm thư mục');
    await writeFile(join(blobs, 'ghi chú.txt'), 'ghi chú của người vận hành');
    await mkdir(join(blobs, 'sao lưu cũ'));
    // A real orphan (right name, right folder, no row) is still an orphan, not a stray.
    const orphan = 'ab'.repeat(32);
    await mkdir(join(blobs, blobRel(orphan), '..'), { recursive: true });
    await writeFile(join(blobs, blobRel(orphan)), 'không thuộc bản ghi nào');

    const r = verify();
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toContain('orphans: 1, stray files: 4');
    expect(r.stdout).toContain(`ORPHAN  ${orphan}`);
    expect(r.stdout).toContain('STRAY   blobs/ab/cd/Báo cáo tổng kết.docx (');
    expect(r.stdout).toContain(`STRAY   blobs/ab/cd/${misplaced} (`);
    expect(r.stdout).toContain('STRAY   blobs/ghi chú.txt (');
    expect(r.stdout).toContain('STRAY   blobs/sao lưu cũ/:');
    expect(r.stdout).not.toContain(`ORPHAN  ${misplaced}`);
    expect(r.stdout).toContain('PROBLEMS FOUND');

    const json = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/verify.ts'), '--data-dir', dir, '--json'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DATA_DIR: '' } });
    const report = JSON.parse(json.stdout) as { ok: boolean; strays: Array<{ path: string; size: number | null }> };
    expect(report.ok).toBe(false);
    expect(report.strays).toContainEqual({ path: 'ab/cd/Báo cáo tổng kết.docx', size: Buffer.byteLength('tệp lạc chỗ') });
    // The run's summary (admin API, metrics) counts them with the orphans.
    const db = openDatabase(join(dir, 'kho.sqlite'), { migrate: false });
    const last = db.sqlite.prepare('SELECT orphans FROM fixity_runs ORDER BY id DESC LIMIT 1').get() as { orphans: number };
    db.close();
    expect(last.orphans).toBe(5);
  });
});
