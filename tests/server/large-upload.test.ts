/**
 * A large upload over real HTTP: past several write batches in flight and past the point where
 * receive-file starts background writeback (64 MiB), the stored blob and its download must be
 * byte-identical to what was sent, and no temp file may be left behind.
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { writeStats } from '../../server/ingest/receive-file.ts';
import { makePdf, randomBinary } from '../helpers/samples.ts';

const sha = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('large upload over HTTP', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 }, upload: { maxFileBytes: 256 * 1024 * 1024 } });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  });
  afterAll(() => t.close());

  /** Upload one file over HTTP, check the answer names its bytes, download it back and compare. */
  async function roundTrip(data: Buffer, title: string, type: string, name: string): Promise<string> {
    const form = new FormData();
    form.append('title', title);
    form.append('type', type);
    form.append('file', new Blob([new Uint8Array(data)]), name);
    const res = await fetch(`${base}/api/products`, { method: 'POST', body: form, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(201);
    const file = ((await res.json()) as { files: Array<{ sha256: string; size: number }> }).files[0];
    expect(file.sha256).toBe(sha(data));
    expect(file.size).toBe(data.length);
    const h = file.sha256;
    expect((await stat(join(t.dataDir, 'blobs', h.slice(0, 2), h.slice(2, 4), h))).size).toBe(data.length);
    const down = await fetch(`${base}/api/files/${h}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(sha(Buffer.from(await down.arrayBuffer()))).toBe(h);
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
    return h;
  }

  it('stores 150 MiB byte-identical (written with O_DIRECT)', async () => {
    const before = { ...writeStats };
    // Random bytes with an odd tail so the last block is a partial one.
    const data = Buffer.concat([await makePdf(1, 'Phim tai lieu'), randomBinary(150 * 1024 * 1024 + 12_345, 42)]);
    await roundTrip(data, 'Phim tài liệu: Đường lên Pác Bó', 'video', 'đường-lên-pác-bó.pdf');
    // A request this large is written direct (or, where the file system refuses, counted as refused).
    expect(writeStats.direct + writeStats.directRefused).toBe(before.direct + before.directRefused + 1);
    expect(writeStats.buffered).toBe(before.buffered);
  }, 120_000);

  it('leaves no temp file and no record when a large upload is cut off mid-way', async () => {
    const count = () => (t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
    const before = count();
    const directBefore = writeStats.direct + writeStats.directRefused;
    const { body, headers } = multipartBody({ title: 'Phim bị huỷ', type: 'video' }, [{ filename: 'huy.pdf', data: Buffer.concat([await makePdf(1, 'huy'), randomBinary(40 * 1024 * 1024, 3)]) }]);
    const url = new URL(`${base}/api/products`);
    let sawTempFile = false;
    await new Promise<void>((resolve) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...headers, 'content-length': String(body.length), authorization: `Bearer ${ADMIN_TOKEN}` } });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.write(body.subarray(0, Math.floor(body.length / 2)));
      void (async () => {
        for (let i = 0; i < 200 && !sawTempFile; i++) {
          sawTempFile = (await readdir(join(t.dataDir, 'tmp'))).length > 0;
          await new Promise((r) => setTimeout(r, 10));
        }
        req.destroy();
      })();
    });
    expect(sawTempFile).toBe(true);
    for (let i = 0; i < 200 && (await readdir(join(t.dataDir, 'tmp'))).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
    expect(count()).toBe(before);
    expect(writeStats.direct + writeStats.directRefused).toBe(directBefore + 1);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('writes through the page cache below the threshold, byte-identical', async () => {
    const before = { ...writeStats };
    const data = Buffer.concat([await makePdf(1, 'To roi'), randomBinary(3 * 1024 * 1024 + 7, 5)]);
    await roundTrip(data, 'Tờ rơi tuyên truyền', 'leaflet', 'tờ-rơi.pdf');
    expect(writeStats.buffered).toBe(before.buffered + 1);
  });
});
