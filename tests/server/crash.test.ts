/**
 * Crash safety: SIGKILL the real server process while uploads stream and jobs run, restart it on
 * the same data dir, and check that every upload answered 201 is there with intact bytes, that no
 * record points at a missing blob, that no partial record exists, and that every job finishes.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, makeDataDir } from '../helpers/app.ts';
import { makePdf, makePng } from '../helpers/samples.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function startServer(dataDir: string): Promise<{ proc: ChildProcess; base: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server/server.ts'], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', ADMIN_TOKEN, JOB_WORKERS: '1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 90_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, base: m[1] });
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('exit', (code) => reject(new Error(`server exited early (${code}):\n${out}`)));
  });
}

describe('crash safety', () => {
  let dataDir: string;
  const procs: ChildProcess[] = [];
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('loses no acknowledged upload and leaves no partial record after SIGKILL', async () => {
    dataDir = await makeDataDir();
    const first = await startServer(dataDir);
    procs.push(first.proc);

    // Distinct files so every upload writes a new blob; PDFs make the worker busy.
    const files: Buffer[] = [];
    for (let i = 0; i < 48; i++) files.push(i % 3 === 0 ? await makePdf(20 + i, `Tai lieu ${i}`) : await makePng(400 + i, 300, i));
    const acked: Array<{ id: number; sha256: string }> = [];
    let next = 0;
    let killed = false;
    const client = async () => {
      while (!killed && next < files.length) {
        const i = next++;
        const form = new FormData();
        form.append('title', `Sản phẩm số ${i} — Cao Bằng`);
        form.append('type', i % 3 === 0 ? 'book' : 'photo');
        form.append('file', new Blob([new Uint8Array(files[i])]), `tep-${i}.${i % 3 === 0 ? 'pdf' : 'png'}`);
        try {
          const res = await fetch(`${first.base}/api/products`, { method: 'POST', body: form, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
          if (res.status === 201) {
            const body = await res.json();
            acked.push({ id: body.id, sha256: body.files[0].sha256 });
          }
        } catch {
          // The server died under us: this upload was never acknowledged.
        }
      }
    };
    const clients = Array.from({ length: 6 }, client);
    // Kill once some uploads are acknowledged and jobs are running.
    const watch = new Database(join(dataDir, 'kho.sqlite'), { readonly: true });
    const runningJobs = () => (watch.prepare(`SELECT count(*) AS n FROM jobs WHERE state = 'running'`).get() as { n: number }).n;
    for (let i = 0; i < 800 && (acked.length < 12 || runningJobs() === 0); i++) await new Promise((r) => setTimeout(r, 25));
    expect(runningJobs()).toBeGreaterThan(0);
    first.proc.kill('SIGKILL');
    watch.close();
    killed = true;
    await Promise.all(clients);
    expect(acked.length).toBeGreaterThanOrEqual(12);

    const second = await startServer(dataDir);
    procs.push(second.proc);
    for (const a of acked) {
      const rec = await fetch(`${second.base}/api/products/${a.id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(rec.status).toBe(200);
      const file = await fetch(`${second.base}/api/files/${a.sha256}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(file.status).toBe(200);
      expect(sha(Buffer.from(await file.arrayBuffer()))).toBe(a.sha256);
    }

    const db = new Database(join(dataDir, 'kho.sqlite'), { readonly: true });
    try {
      // No record points at a missing blob.
      const shas = db.prepare('SELECT DISTINCT sha256 FROM product_files').all() as { sha256: string }[];
      for (const { sha256 } of shas) expect(existsSync(join(dataDir, 'blobs', sha256.slice(0, 2), sha256.slice(2, 4), sha256))).toBe(true);
      // No partial record: every product has its files, its jobs and its audit entry.
      const partial = db
        .prepare(
          `SELECT p.id FROM products p WHERE NOT EXISTS (SELECT 1 FROM product_files f WHERE f.product_id = p.id)
             OR NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.entity = 'product' AND a.entity_id = CAST(p.id AS TEXT))
             OR EXISTS (SELECT 1 FROM product_files f WHERE f.product_id = p.id AND (SELECT count(*) FROM jobs j WHERE j.sha256 = f.sha256) < 2)`,
        )
        .all();
      expect(partial).toEqual([]);
      // Every job finishes after the restart.
      let pending = 1;
      for (let i = 0; i < 1200 && pending > 0; i++) {
        pending = (db.prepare(`SELECT count(*) AS n FROM jobs WHERE state IN ('queued', 'running')`).get() as { n: number }).n;
        if (pending > 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(pending).toBe(0);
      const failed = db.prepare(`SELECT kind, attempts, error_code, error_message FROM jobs WHERE state = 'failed'`).all();
      expect(JSON.stringify(failed)).toBe("[]");
    } finally {
      db.close();
    }
    // Stray temp files of the killed uploads were swept at start-up.
    expect(readdirSync(join(dataDir, 'tmp')).filter((n) => n.startsWith('upload-'))).toEqual([]);
  }, 180_000);
});
