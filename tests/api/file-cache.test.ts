/**
 * Caching of originals: a public file may sit in shared caches, but only for a bounded time, so a
 * record withdrawn or made internal stops being served by them; the ETag keeps revalidation cheap.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { makePdf } from '../helpers/samples.ts';

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

describe('cache headers of original files', () => {
  it('a published public file is cached publicly for a day (not immutable) and revalidates with its ETag; an internal one is private', async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const { body, headers } = multipartBody({ title: 'Tờ gấp Ngày hội Đại đoàn kết toàn dân tộc', type: 'flyer' }, [{ filename: 'to-gap.pdf', data: await makePdf(1, 'Ngay hoi dai doan ket') }]);
    const up = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
    expect(up.statusCode).toBe(201);
    const { id, files } = up.json();
    const url = `/api/files/${files[0].sha256}`;
    t.app.db.sqlite.prepare(`UPDATE products SET state = 'published', access = 'public' WHERE id = ?`).run(id);

    const pub = await t.app.inject({ url });
    expect(pub.statusCode).toBe(200);
    expect(pub.headers['cache-control']).toBe('public, max-age=86400');
    const again = await t.app.inject({ url, headers: { 'if-none-match': pub.headers.etag as string } });
    expect(again.statusCode).toBe(304);

    t.app.db.sqlite.prepare(`UPDATE products SET access = 'internal' WHERE id = ?`).run(id);
    expect((await t.app.inject({ url })).statusCode).toBe(404);
    const staff = await t.app.inject({ url, headers: auth() });
    expect(staff.statusCode).toBe(200);
    expect(staff.headers['cache-control']).toBe('private, no-cache');
  });
});
