/**
 * Operator scripts stopped half-way with Ctrl-C (SIGINT) or SIGTERM: one line saying what is kept,
 * exit 130 or 143, nothing half-written (no temp files, no partial snapshot, no half-restored data
 * dir, no half-made type correction), and a re-run finishes the work.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir } from '../helpers/app.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function start(name: string, args: string[], dataDir: string): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', `${name}.ts`), ...args], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => child.on('exit', (code) => res({ code, stdout, stderr })));
  return { child, done };
}

async function until(what: string, test: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function productCount(dataDir: string): number {
  try {
    const db = new Database(join(dataDir, 'kho.sqlite'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

/** Every file under `dir` (relative paths). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

describe('operator scripts stopped with Ctrl-C', () => {
  let work: string;
  let folder: string;
  let dataDir: string;
  const ROWS = 400;

  beforeAll(async () => {
    work = await makeDataDir();
    folder = join(work, 'tư liệu');
    dataDir = join(work, 'kho');
    await import('node:fs/promises').then((fs) => fs.mkdir(folder, { recursive: true }));
    const lines = ['Tệp,Tiêu đề,Loại'];
    for (let i = 0; i < ROWS; i++) {
      // Text files of ~60 KB, each distinct.
      await writeFile(join(folder, `to-gap-${i}.txt`), `Tờ gấp tuyên truyền số ${i} ${randomBytes(8).toString('hex')}\n`.repeat(500));
      lines.push(`to-gap-${i}.txt,Tờ gấp tuyên truyền số ${i},tờ gấp`);
    }
    await writeFile(join(folder, 'danh-muc.csv'), `${lines.join('\n')}\n`);
  }, 60_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('import: keeps the committed rows, removes its temp files, says how to resume (exit 130); a re-run imports the rest', async () => {
    const report = join(work, 'bao-cao.json');
    const args = [folder, '--manifest', join(folder, 'danh-muc.csv'), '--report', report, '--concurrency', '1'];
    const { child, done } = start('import', args, dataDir);
    await until('the first rows', () => productCount(dataDir) >= 20);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/^interrupted \(SIGINT\): the rows imported so far \(\d+ when the signal came\) are kept, no report was written; run the same command again/m);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    const kept = productCount(dataDir);
    expect(kept).toBeGreaterThanOrEqual(20);
    expect(kept).toBeLessThan(ROWS);
    expect(await readdir(join(dataDir, 'tmp'))).toEqual([]);
    expect(existsSync(report)).toBe(false);

    const again = start('import', [...args, '--quiet'], dataDir);
    const r2 = await again.done;
    expect(r2.code, r2.stderr).toBe(0);
    expect(productCount(dataDir)).toBe(ROWS);
    expect(r2.stdout).toContain(`skipped: ${kept}`);
  }, 180_000);

  it('backup and restore: no partial snapshot or temp copy, no half-restored data dir (exit 130)', async () => {
    const dest = join(work, 'sao-luu');
    // Interrupted once a first blob is copied: the partial snapshot and the copies in flight go.
    const b = start('backup', [dest, '--concurrency', '1'], dataDir);
    await until('a first copied blob', async () => (await filesUnder(join(dest, 'blobs'))).some((f) => /[0-9a-f]{64}$/.test(f)));
    b.child.kill('SIGINT');
    const rb = await b.done;
    expect(rb.code, rb.stderr).toBe(130);
    expect(rb.stderr).toMatch(/^interrupted \(SIGINT\): no snapshot was made \(LATEST is unchanged\)/m);
    expect(await readdir(join(dest, 'snapshots'))).toEqual([]);
    expect(existsSync(join(dest, 'LATEST'))).toBe(false);
    const leftovers = await filesUnder(dest);
    expect(leftovers.length).toBeGreaterThan(0);
    expect(leftovers.filter((f) => !/^blobs\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(f))).toEqual([]);

    // A whole backup, then a restore stopped half-way into a new folder: the folder is gone again.
    const full = await start('backup', [dest, '--quiet'], dataDir).done;
    expect(full.code, full.stderr).toBe(0);
    const target = join(work, 'khôi phục');
    const rs = start('restore', [dest, '--data-dir', target, '--concurrency', '1'], join(work, 'unused'));
    await until('a first restored blob', async () => (await filesUnder(join(target, 'blobs'))).length > 0);
    rs.child.kill('SIGINT');
    const rr = await rs.done;
    expect(rr.code, rr.stderr).toBe(130);
    expect(rr.stderr).toContain(`interrupted (SIGINT): the partial restore in ${target} is removed; run the same command again`);
    expect(existsSync(target)).toBe(false);
    const again = await start('restore', [dest, '--data-dir', target, '--quiet'], join(work, 'unused')).done;
    expect(again.code, again.stderr).toBe(0);
    expect(productCount(target)).toBe(ROWS);
  }, 240_000);
});

describe('rederive --resniff stopped with Ctrl-C or SIGTERM', () => {
  let work: string;
  const BLOBS = 3000;

  /** A data dir whose BLOBS text files are all recorded as PDFs (as before a sniffing fix): resniff corrects each. */
  async function misfiledStore(dataDir: string): Promise<void> {
    const { openDatabase } = await import('../../server/db/client.ts');
    const { blobRel } = await import('../../server/ops/hash.ts');
    const { mkdir } = await import('node:fs/promises');
    const db = openDatabase(join(dataDir, 'kho.sqlite'));
    const blob = db.sqlite.prepare(`INSERT INTO blobs (sha256, size, media_type, kind) VALUES (?, ?, 'application/pdf', 'pdf')`);
    const job = db.sqlite.prepare(`INSERT INTO jobs (sha256, kind, state, attempts) VALUES (?, ?, 'done', 1)`);
    const rows: Array<[string, number]> = [];
    for (let i = 0; i < BLOBS; i++) {
      const bytes = Buffer.from(`Bản tin tuyên truyền số ${i} của huyện Hà Quảng ${randomBytes(6).toString('hex')}\n`);
      const sha = createHash('sha256').update(bytes).digest('hex');
      const path = join(dataDir, 'blobs', blobRel(sha));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
      rows.push([sha, bytes.length]);
    }
    db.sqlite.transaction(() => {
      for (const [sha, size] of rows) {
        blob.run(sha, size);
        job.run(sha, 'extract');
        job.run(sha, 'thumbnail');
      }
    })();
    db.close();
  }

  /** What resniff has committed: corrected blobs, their audit entries and queued jobs (each must match the others). */
  function state(dataDir: string): { corrected: number; audits: number; queuedJobs: number; pdf: number } {
    const db = new Database(join(dataDir, 'kho.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
      return {
        corrected: n(`SELECT count(*) AS n FROM blobs WHERE media_type = 'text/plain'`),
        audits: n(`SELECT count(*) AS n FROM audit_log WHERE action = 'resniff'`),
        queuedJobs: n(`SELECT count(*) AS n FROM jobs WHERE state = 'queued'`),
        pdf: n(`SELECT count(*) AS n FROM blobs WHERE media_type = 'application/pdf'`),
      };
    } finally {
      db.close();
    }
  }

  beforeAll(async () => {
    work = await makeDataDir();
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${signal}: one line with the number kept (exit ${code}), every correction whole, and the same command finishes`, async () => {
      const dataDir = join(work, `kho ${signal}`);
      await misfiledStore(dataDir);
      const { child, done } = start('rederive', ['--resniff', '--data-dir', dataDir], join(work, 'unused'));
      await until('the first corrections', () => {
        try {
          return state(dataDir).audits >= 20;
        } catch {
          return false; // the database is being opened
        }
      });
      child.kill(signal);
      const r = await done;
      expect(r.code, r.stderr).toBe(code);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('interrupted'));
      expect(lines).toHaveLength(1);
      const m = /^interrupted \((SIG\w+)\): the (\d+) type\(s\) corrected so far are kept \(each in its own transaction\); run the same command again to go on$/.exec(lines[0]);
      expect(m, r.stderr).not.toBeNull();
      expect(m![1]).toBe(signal);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      // Nothing half-done: the number said is the number committed, each with its audit entry and both jobs queued.
      const s = state(dataDir);
      expect(s.corrected).toBe(Number(m![2]));
      expect(s.corrected).toBeGreaterThanOrEqual(20);
      expect(s.corrected).toBeLessThan(BLOBS);
      expect(s.audits).toBe(s.corrected);
      expect(s.queuedJobs).toBe(2 * s.corrected);
      expect(s.pdf).toBe(BLOBS - s.corrected);
      expect(await readdir(join(dataDir, 'tmp'))).toEqual([]);
      // The same command corrects the rest, and only the rest.
      const again = await start('rederive', ['--resniff', '--data-dir', dataDir, '--quiet'], join(work, 'unused')).done;
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(`re-sniffed ${BLOBS} file(s): ${BLOBS - s.corrected} type(s) corrected`);
      expect(state(dataDir)).toEqual({ corrected: BLOBS, audits: BLOBS, queuedJobs: 2 * BLOBS, pdf: 0 });
    }, 120_000);
  }
});
