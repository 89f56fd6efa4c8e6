/**
 * Download headers of originals. Caching: a public file may sit in shared caches, but only for a
 * bounded time, so a record withdrawn or made internal stops being served by them; the ETag keeps
 * revalidation cheap. Names: the uploaded name, with the real type's extension when it says otherwise.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { downloadName } from '../../server/ingest/media-types.ts';
import { makePdf, makePng } from '../helpers/samples.ts';

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

describe('download names', () => {
  it('keep the uploaded name when its extension fits the bytes, and add the real one when it does not', () => {
    expect(downloadName('Báo cáo tổng kết.pdf', 'application/pdf')).toBe('Báo cáo tổng kết.pdf');
    expect(downloadName('ẢNH LỄ HỘI.JPEG', 'image/jpeg')).toBe('ẢNH LỄ HỘI.JPEG');
    expect(downloadName('báo cáo.docx', 'video/mp4')).toBe('báo cáo.docx.mp4');
    expect(downloadName('Bản đồ du lịch', 'image/png')).toBe('Bản đồ du lịch.png');
    expect(downloadName('ghi-am.m4a', 'audio/mp4')).toBe('ghi-am.m4a');
    // An Opus recording is sniffed as Ogg: bai-ca.opus, not bai-ca.opus.ogg.
    expect(downloadName('bài ca.opus', 'audio/ogg')).toBe('bài ca.opus');
    expect(downloadName('loa-phuong.3gp', 'audio/3gpp')).toBe('loa-phuong.3gp');
    // Plain text may be named anything textual.
    expect(downloadName('danh-sach.csv', 'text/plain')).toBe('danh-sach.csv');
  });

  it('a picture uploaded under a word-processor name downloads with its real extension', async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const { body, headers } = multipartBody({ title: 'Ảnh tư liệu Khu di tích Pác Bó', type: 'photo' }, [{ filename: 'pac-bo.docx', data: await makePng(40, 30) }]);
    const up = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
    expect(up.statusCode).toBe(201);
    const file = up.json().files[0];
    expect(file.originalName).toBe('pac-bo.docx');
    const res = await t.app.inject({ url: `/api/files/${file.sha256}?download=true`, headers: auth() });
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="pac-bo.docx.png"; filename*=UTF-8''pac-bo.docx.png`);
    // ?download=1 as well as true; 0, false or nothing: a picture is shown inline.
    expect((await t.app.inject({ url: `/api/files/${file.sha256}?download=1`, headers: auth() })).headers['content-disposition']).toMatch(/^attachment;/);
    for (const q of ['?download=0', '?download=false', '']) {
      expect((await t.app.inject({ url: `/api/files/${file.sha256}${q}`, headers: auth() })).headers['content-disposition'], q).toMatch(/^inline;/);
    }
  });
});
