import { spawnSync } from 'node:child_process';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFixity } from '../../server/ops/fixity.ts';
import { blobRel } from '../../server/ops/hash.ts';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { makePdf, makePng } from '../helpers/samples.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('fixity: verify script, admin API, metrics', () => {
  let t: TestApp;
  const shas: string[] = [];
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    for (const [i, data] of [await makePdf(1, 'Nghi quyet'), await makePng(30, 20, 1), await makePng(31, 20, 2)].entries()) {
      const { body, headers } = multipartBody({ title: `Tài liệu kiểm tra toàn vẹn số ${i}`, type: 'document' }, [{ filename: `tệp ${i}`, data }]);
      const res = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
      expect(res.statusCode).toBe(201);
      shas.push(res.json().files[0].sha256);
    }
  });
  afterAll(() => t.close());

  const verifyScript = () =>
    spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/verify.ts'), '--data-dir', t.dataDir, '--quiet'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DATA_DIR: '' } });

  it('passes on an intact store (exit 0)', async () => {
    const r = verifyScript();
    expect(r.stdout).toContain('3 blobs checked');
    expect(r.stdout).toContain('missing: 0, corrupt: 0, orphans: 0');
    expect(r.status).toBe(0);
  });

  it('catches one flipped byte, a missing blob and an orphan (exit 1), and admins see the run', async () => {
    const p = join(t.dataDir, 'blobs', blobRel(shas[0]));
    const bytes = await readFile(p);
    bytes[100] ^= 0x20;
    await writeFile(p, bytes);
    const { rm } = await import('node:fs/promises');
    await rm(join(t.dataDir, 'blobs', blobRel(shas[1])));
    const orphan = 'ab'.repeat(32);
    await mkdir(join(t.dataDir, 'blobs', 'ab', 'ab'), { recursive: true });
    await writeFile(join(t.dataDir, 'blobs', blobRel(orphan)), 'không thuộc bản ghi nào');

    const r = verifyScript();
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('missing: 1, corrupt: 1, orphans: 1');
    expect(r.stdout).toContain(`CORRUPT ${shas[0]}`);
    // It says which record is hurt: id, title and the file's name.
    expect(r.stdout).toContain(`MISSING ${shas[1]} (`);
    expect(r.stdout).toMatch(new RegExp(`MISSING ${shas[1]} \\(\\d+ bytes\\)\\n +product #2 "Tài liệu kiểm tra toàn vẹn số 1", file "tệp 1"`));
    expect(r.stdout).toMatch(new RegExp(`CORRUPT ${shas[0]}: .*\\n +product #1 "Tài liệu kiểm tra toàn vẹn số 0", file "tệp 0"`));
    expect(r.stdout).toContain('<backup>/blobs/ab/cd/<sha256> → DATA_DIR/blobs/ab/cd/<sha256>');
    expect(r.stdout).toContain(`ORPHAN  ${orphan}`);

    const list = await t.app.inject({ method: 'GET', url: '/api/admin/fixity', headers: auth() });
    expect(list.statusCode).toBe(200);
    const latest = list.json().latest;
    expect(latest).toMatchObject({ missing: 1, corrupt: 1, orphans: 1, ok: false, trigger: 'verify-script' });
    const one = await t.app.inject({ method: 'GET', url: `/api/admin/fixity/${latest.id}`, headers: auth() });
    expect(one.json().report.corrupt[0]).toMatchObject({ sha256: shas[0], productIds: [1], files: [{ productId: 1, title: 'Tài liệu kiểm tra toàn vẹn số 0', name: 'tệp 0' }] });
    expect((await t.app.inject({ method: 'GET', url: '/api/admin/fixity' })).statusCode).toBe(401);

    // Started from the API, in the background.
    const start = await t.app.inject({ method: 'POST', url: '/api/admin/fixity', headers: auth() });
    expect(start.statusCode).toBe(202);
    const id = start.json().id;
    let run;
    for (let i = 0; i < 100; i++) {
      run = (await t.app.inject({ method: 'GET', url: `/api/admin/fixity/${id}`, headers: auth() })).json();
      if (!run.running) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(run).toMatchObject({ running: false, corrupt: 1, missing: 1, orphans: 1, trigger: 'admin-token' });

    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/kho_fixity_last_problems\{kind="corrupt",app="kho-tu-lieu"\} 1/);
  });

  it('runFixity can be aborted and records it', async () => {
    const ac = new AbortController();
    ac.abort();
    const rep = await runFixity({ sqlite: t.app.db.sqlite, blobStore: t.app.blobStore }, { signal: ac.signal });
    expect(rep.aborted).toBe(true);
    expect(rep.ok).toBe(false);
  });

  it('serves Prometheus metrics to localhost and admins only, with request, upload and job figures', async () => {
    await t.app.inject({ method: 'GET', url: '/api/products/1', headers: auth() });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(/kho_http_requests_total\{method="GET",route="\/api\/products\/:id",status_code="200",app="kho-tu-lieu"\} \d+/);
    expect(res.body).toMatch(/kho_http_request_duration_seconds_bucket\{le="0.1",app="kho-tu-lieu",method="GET",route="\/api\/products\/:id"\} 1/);
    expect(res.body).toMatch(/kho_uploads_total\{result="created",app="kho-tu-lieu"\} 3/);
    expect(res.body).toMatch(/kho_jobs\{state="queued",app="kho-tu-lieu"\} 6/);
    expect(res.body).toMatch(/kho_blobs_stored\{app="kho-tu-lieu"\} 3/);
    expect(res.body).toMatch(/kho_bytes_stored\{app="kho-tu-lieu"\} [1-9]\d*/);
    expect(res.body).toContain('kho_search_duration_seconds');
    const remote = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3' });
    expect(remote.statusCode).toBe(403);
    expect(remote.json().code).toBe('METRICS_FORBIDDEN');
    const admin = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3', headers: auth() });
    expect(admin.statusCode).toBe(200);
  });
});

describe('scheduled fixity in the server', () => {
  it('runs every FIXITY_INTERVAL_HOURS and records the run for admins', async () => {
    // 0.0003 h ≈ 1.1 s.
    const t = await makeTestApp({ jobs: { workers: 0 }, fixityIntervalHours: 0.0003 });
    try {
      let runs: Array<{ trigger: string; running: boolean; ok: boolean | null }> = [];
      for (let i = 0; i < 100 && !runs.some((r) => !r.running); i++) {
        await new Promise((r) => setTimeout(r, 100));
        runs = (await t.app.inject({ method: 'GET', url: '/api/admin/fixity', headers: auth() })).json().runs;
      }
      expect(runs[0]).toMatchObject({ trigger: 'schedule', ok: true });
    } finally {
      await t.close();
    }
  });
  it('behind a proxy (TRUST_PROXY), a client cannot pass for localhost with its own X-Forwarded-For', async () => {
    const p = await makeTestApp({ jobs: { workers: 0 }, trustProxy: true });
    try {
      // The proxy (on this machine) appends the address it saw to what the client sent.
      const viaProxy = (xff: string) => p.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': xff } });
      expect((await viaProxy('203.0.113.5')).statusCode).toBe(403);
      expect((await viaProxy('127.0.0.1, 203.0.113.5')).statusCode).toBe(403);
      expect((await viaProxy('127.0.0.1')).statusCode).toBe(200);
      expect((await p.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
    } finally {
      await p.close();
    }
  });
});
