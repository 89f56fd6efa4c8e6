/**
 * The server's own storage failing under an upload or a job: a full disk is 507 STORAGE_FULL, a
 * read-only one 503 STORAGE_READ_ONLY (never a 500, never "the client aborted"), with no record,
 * no temp file left, and the next upload stored once space is back; a job queue whose database
 * refuses writes leaves the jobs queued (the server stays up) and they run once it can write again.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

const fault = (code: string, message: string) => Object.assign(new Error(`${code}: ${message}`), { code });
const products = (tt: TestApp) => (tt.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;

async function storedBlobs(tt: TestApp): Promise<string[]> {
  const out: string[] = [];
  for await (const sha of tt.app.blobStore.list()) out.push(sha);
  return out;
}

/** POST one small text file over real HTTP (as a browser or curl would). */
async function postOver(base: string, title: string, text: string) {
  const { body, headers } = multipartBody({ title, type: 'document' }, [{ filename: 'ban-tin.txt', data: Buffer.from(text, 'utf8') }]);
  const res = await fetch(`${base}/api/products`, { method: 'POST', body: new Uint8Array(body), headers: { ...headers, authorization: `Bearer ${ADMIN_TOKEN}` } });
  return { status: res.status, body: (await res.json()) as { code?: string; id?: number } };
}

async function listen(tt: TestApp): Promise<string> {
  await tt.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(tt.app.server.address() as { port: number }).port}`;
}

describe('storage faults during an upload', () => {
  it('answers 507 STORAGE_FULL when the blob store is full, keeps nothing, and stores the next upload once space is back', async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const base = await listen(t);
    const store = t.app.blobStore;
    const putFile = store.putFile;
    store.putFile = async () => {
      throw fault('ENOSPC', 'no space left on device, write');
    };
    const full = await postOver(base, 'Bản tin tháng Mười', 'Bản tin tuyên truyền tháng Mười.');
    expect(full.status).toBe(507);
    expect(full.body.code).toBe('STORAGE_FULL');
    expect(products(t)).toBe(0);
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);

    store.putFile = putFile;
    const ok = await postOver(base, 'Bản tin tháng Mười', 'Bản tin tuyên truyền tháng Mười.');
    expect(ok.status).toBe(201);
    expect(products(t)).toBe(1);
  });

  it('a store that fills up at the second file of an upload: the first file is taken back, nothing is left', async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const store = t.app.blobStore;
    const putFile = store.putFile;
    let calls = 0;
    store.putFile = async (...args) => {
      if (++calls === 2) throw fault('ENOSPC', 'no space left on device, write');
      return putFile(...args);
    };
    const { body, headers } = multipartBody({ title: 'Hai tờ rơi', type: 'leaflet' }, [
      { filename: 'to-1.txt', data: Buffer.from('Tờ rơi thứ nhất.', 'utf8') },
      { filename: 'to-2.txt', data: Buffer.from('Tờ rơi thứ hai.', 'utf8') },
    ]);
    const res = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
    expect(res.statusCode).toBe(507);
    expect(products(t)).toBe(0);
    expect(await storedBlobs(t)).toEqual([]);
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
  });

  it('a temp folder removed while the server runs is made again: uploads go on (201), small and large', async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const base = await listen(t);
    for (const [i, size] of [1, 20 * 1024 * 1024].entries()) {
      await rm(join(t.dataDir, 'tmp'), { recursive: true, force: true });
      // Over HTTP with a Content-Length: a large one is written with O_DIRECT (another open call).
      const res = await postOver(base, `Bản tin sau khi xoá tmp ${i + 1}`, 'Bản tin. '.repeat(Math.ceil(size / 10)).slice(0, size));
      expect(res.status).toBe(201);
    }
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
  });

  it('answers 503 STORAGE_READ_ONLY when the store is read-only', async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const base = await listen(t);
    t.app.blobStore.putFile = async () => {
      throw fault('EROFS', 'read-only file system, link');
    };
    const res = await postOver(base, 'Tờ gấp an toàn giao thông', 'Đội mũ bảo hiểm khi đi xe máy.');
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('STORAGE_READ_ONLY');
    expect(products(t)).toBe(0);
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
  });

  it('answers 507 STORAGE_FULL when the database cannot grow, with no half-written record', async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const db = t.app.db.sqlite;
    // A database that cannot take one more page: SQLite's own SQLITE_FULL, as on a full disk.
    db.exec('CREATE TABLE filler (b BLOB)');
    db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true })) + 8}`);
    const fill = db.prepare('INSERT INTO filler VALUES (zeroblob(2000))');
    expect(() => {
      for (let i = 0; i < 10_000; i++) fill.run();
    }).toThrow(/full/);
    // Fifteen files with long names: the record's audit entry needs pages of its own (overflow pages).
    const files = Array.from({ length: 15 }, (_, i) => ({
      filename: `${'Bản tin tuyên truyền phòng chống thiên tai của tỉnh '.repeat(3)}số ${i + 1}.txt`,
      data: Buffer.from(`Bản tin số ${i + 1}: đĩa đầy rồi.`, 'utf8'),
    }));
    const { body, headers } = multipartBody({ title: 'Bản tin khi đĩa đầy', type: 'document' }, files);
    const res = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
    expect(res.statusCode).toBe(507);
    expect(res.json().code).toBe('STORAGE_FULL');
    expect(products(t)).toBe(0);
    expect((db.prepare('SELECT count(*) AS n FROM product_files').get() as { n: number }).n).toBe(0);
    expect((db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n).toBe(0);
    // The files moved into the store before the record failed are taken back: no orphan for verify.
    expect(await storedBlobs(t)).toEqual([]);
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);

    db.exec('DROP TABLE filler');
    const again = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
    expect(again.statusCode).toBe(201);
  });
});

describe('storage faults in the job queue', () => {
  it('an upload whose jobs cannot be claimed is still 201, and the jobs run once the database can be written', async () => {
    t = await makeTestApp({ jobs: { workers: 1 } });
    await t.app.ready();
    const queue = t.app.jobQueue;
    // A first upload, processed: the worker is up and idle, so the next commit claims at once.
    const first = multipartBody({ title: 'Bản tin đầu tiên', type: 'document' }, [{ filename: 'dau.txt', data: Buffer.from('Bản tin đầu tiên.', 'utf8') }]);
    expect((await t.app.inject({ method: 'POST', url: '/api/products', payload: first.body, headers: { ...first.headers, ...auth() } })).statusCode).toBe(201);
    await t.app.jobRunner.drain(30_000);
    const claim = queue.claim;
    queue.claim = () => {
      throw fault('SQLITE_FULL', 'database or disk is full');
    };
    const { body, headers } = multipartBody({ title: 'Bản tin chờ xử lý', type: 'document' }, [{ filename: 'cho.txt', data: Buffer.from('Nội dung chờ xử lý.', 'utf8') }]);
    const res = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
    expect(res.statusCode).toBe(201);
    expect(queue.counts().queued).toBe(2);
    queue.claim = claim;
    await t.app.jobRunner.drain(30_000);
    expect(queue.counts()).toMatchObject({ done: 4, queued: 0, running: 0 });
  }, 60_000);

  it('a job whose result and failure cannot be saved stays to be retried; the server does not die', async () => {
    t = await makeTestApp({ jobs: { workers: 1 } });
    await t.app.ready();
    const queue = t.app.jobQueue;
    const { markDone, markFailed } = queue;
    let refused = 0;
    // Saving the result fails (disk full), and so does the first try at recording that failure.
    queue.markDone = () => {
      refused++;
      throw fault('SQLITE_FULL', 'database or disk is full');
    };
    let failedOnce = false;
    queue.markFailed = (...args) => {
      if (!failedOnce) {
        failedOnce = true;
        throw fault('SQLITE_FULL', 'database or disk is full');
      }
      return markFailed(...args);
    };
    const { body, headers } = multipartBody({ title: 'Bản tin đĩa đầy', type: 'document' }, [{ filename: 'day.txt', data: Buffer.from('Nội dung bản tin.', 'utf8') }]);
    const res = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
    expect(res.statusCode).toBe(201);
    await expect.poll(() => refused, { timeout: 20_000 }).toBeGreaterThan(0);
    queue.markDone = markDone;
    // A failure, once recorded (at once, or on the runner's retry 5 s later), waits a minute (a
    // storage fault's back-off): every queued job is made due now until none is left.
    const dueNow = t.app.db.sqlite.prepare(`UPDATE jobs SET run_after = ? WHERE state = 'queued'`);
    const until = Date.now() + 40_000;
    while (Date.now() < until) {
      const c = queue.counts();
      if (c.queued === 0 && c.running === 0) break;
      dueNow.run(new Date(0).toISOString());
      t.app.jobRunner.notify();
      await new Promise((r) => setTimeout(r, 200));
    }
    await t.app.jobRunner.drain(5_000);
    expect(queue.counts()).toMatchObject({ done: 2, queued: 0, running: 0, failed: 0 });
    const rows = t.app.db.sqlite.prepare('SELECT attempts FROM jobs').all() as { attempts: number }[];
    expect(Math.max(...rows.map((r) => r.attempts))).toBeGreaterThan(1);
    // The server still answers.
    expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  }, 60_000);
});

describe('retries after a storage fault', () => {
  it('a job failed by a full or read-only store is retried minutes later, not seconds; other transient failures keep the short back-off', async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const { body, headers } = multipartBody({ title: 'Bản tin phát thanh tháng Chạp', type: 'document' }, [{ filename: 'thang-chap.txt', data: Buffer.from('Bản tin phát thanh.', 'utf8') }]);
    const res = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
    expect(res.statusCode).toBe(201);
    const queue = t.app.jobQueue;
    const delayAfter = (code: string) => {
      const job = queue.claim()!;
      const now = Date.now();
      expect(queue.markFailed(job, code, `${code} in a test`, false, now)).toBe('queued');
      const row = t!.app.db.sqlite.prepare('SELECT run_after FROM jobs WHERE id = ?').get(job.id) as { run_after: string };
      // Due again at once, for the next case.
      t!.app.db.sqlite.prepare('UPDATE jobs SET run_after = ?, attempts = 0 WHERE id = ?').run(new Date(0).toISOString(), job.id);
      return Date.parse(row.run_after) - now;
    };
    expect(delayAfter('STORAGE_FULL')).toBe(60_000);
    expect(delayAfter('STORAGE_READ_ONLY')).toBe(60_000);
    expect(delayAfter('MEDIA_MALFORMED')).toBe(2_000);
  });
});
