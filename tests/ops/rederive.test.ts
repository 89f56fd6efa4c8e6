import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockDataDir } from '../../server/data-dir-lock.ts';
import { openDatabase } from '../../server/db/client.ts';
import { auth, makeDataDir, makeTestApp, multipartBody } from '../helpers/app.ts';
import { makePdf, makePng } from '../helpers/samples.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('rederive script', () => {
  it('re-queues failed jobs of one kind and runs them with --process', async () => {
    const dataDir = await makeDataDir();
    try {
      // Two products, jobs left queued (no workers), then marked as failed/done as after an old extractor.
      const t = await makeTestApp({ jobs: { workers: 0 } }, dataDir);
      const shas: Record<string, string> = {};
      for (const [name, data] of [['ảnh bìa.png', await makePng(120, 80, 4)], ['tài liệu.pdf', await makePdf(2, 'Rederive')]] as const) {
        const { body, headers } = multipartBody({ title: `Tư liệu ${name}`, type: 'document' }, [{ filename: name, data }]);
        const res = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
        expect(res.statusCode).toBe(201);
        shas[name] = res.json().files[0].sha256;
      }
      t.app.db.sqlite.prepare(`UPDATE jobs SET state = 'failed', error_code = 'OLD_EXTRACTOR', error_message = 'failed with the old extractor', attempts = 3`).run();
      await t.app.close();

      const run = (...args: string[]) =>
        spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/rederive.ts'), '--data-dir', dataDir, '--quiet', ...args], {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, JOB_WORKERS: '1', LOG_LEVEL: 'silent' },
          timeout: 120_000,
        });
      expect(run('--kind', 'spreadsheet').status).toBe(2);

      // --process beside a running server (this process holds the lock a server takes at start) is
      // refused before anything is re-queued: the re-queueing below still finds both failed jobs.
      const serverLock = lockDataDir(dataDir);
      const refused = run('--failed-only', '--kind', 'image', '--process');
      serverLock.release();
      expect(refused.status, refused.stderr).toBe(1);
      expect(refused.stderr).toContain(`a server is running on ${dataDir}: it runs the queued jobs itself`);
      expect(refused.stdout).not.toContain('re-queued');

      const r = run('--failed-only', '--kind', 'image', '--process');
      expect(r.stdout, r.stderr).toContain('re-queued 2 job(s)');
      expect(r.status, r.stderr).toBe(0);

      const db = openDatabase(join(dataDir, 'kho.sqlite'), { migrate: false });
      const jobs = db.sqlite.prepare('SELECT j.sha256, j.kind, j.state FROM jobs j ORDER BY j.sha256, j.kind').all() as Array<{ sha256: string; kind: string; state: string }>;
      const thumbs = db.sqlite.prepare('SELECT name FROM derivatives WHERE sha256 = ?').all(shas['ảnh bìa.png']) as Array<{ name: string }>;
      db.close();
      for (const j of jobs) expect(j.state, `${j.kind} of ${j.sha256}`).toBe(j.sha256 === shas['ảnh bìa.png'] ? 'done' : 'failed');
      expect(thumbs.length).toBeGreaterThan(0);

      // Jobs already queued (by an import, a --resniff without --process, a stopped run) are run by
      // --process too, even when this run re-queues none of them.
      const db2 = openDatabase(join(dataDir, 'kho.sqlite'), { migrate: false });
      db2.sqlite.prepare(`UPDATE jobs SET state = 'queued', attempts = 0, error_code = NULL, error_message = NULL WHERE sha256 = ?`).run(shas['tài liệu.pdf']);
      db2.close();
      const q = run('--failed-only', '--process');
      expect(q.status, q.stderr).toBe(0);
      expect(q.stdout).toContain('re-queued 0 job(s)');
      expect(q.stdout).toContain('2 job(s) already in the queue are run too');
      const db3 = openDatabase(join(dataDir, 'kho.sqlite'), { migrate: false });
      expect(db3.sqlite.prepare(`SELECT kind, state FROM jobs WHERE sha256 = ? ORDER BY kind`).all(shas['tài liệu.pdf'])).toEqual([
        { kind: 'extract', state: 'done' },
        { kind: 'thumbnail', state: 'done' },
      ]);
      db3.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
