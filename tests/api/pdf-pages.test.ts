/**
 * Unreadable PDF text through the real app and job workers: pages whose font gives glyph numbers
 * are not indexed and the record page says they need OCR.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { hasDejaVu, makeUnicodePdf, tempDir } from '../helpers/fixtures.ts';

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

const UNREADABLE = ['Kế hoạch tuyên truyền Lễ hội Lồng tồng xã Ngọc Côn năm 2023.', 'Danh sách sản phẩm tuyên truyền của huyện Hà Quảng.'];

/** Uploads the files as one published record, runs its jobs and answers the record. */
async function publish(app: TestApp['app'], title: string, files: Array<{ filename: string; data: Buffer }>) {
  const { body, headers } = multipartBody({ title, type: 'book' }, files);
  const up = await app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
  expect(up.statusCode).toBe(201);
  const id = up.json().id as number;
  await app.jobRunner.drain(60_000);
  for (const action of ['start_review', 'accept', 'publish']) {
    const r = await app.inject({ method: 'POST', url: `/api/products/${id}/transitions`, headers: auth(), payload: { action } });
    expect(r.statusCode, action).toBe(200);
  }
  const rec = (await app.inject({ url: `/api/products/${id}` })).json();
  expect(rec.processing).toBe('done');
  return rec;
}

describe('unreadable PDF text', () => {
  it.skipIf(!hasDejaVu())('pages whose font gives glyph numbers are not indexed, and the record page says they need OCR', async () => {
    const { dir, cleanup } = await tempDir('kho-pdfpages-');
    try {
      t = await makeTestApp({ jobs: { workers: 1 } });
      // Its font's ToUnicode map and its own cmap both left out: the text is glyph numbers.
      const glyphs = join(dir, 'ke-hoach.pdf');
      await makeUnicodePdf(glyphs, UNREADABLE, { toUnicode: 'none', fontCmap: false });
      const rec = await publish(t.app, 'Kế hoạch tuyên truyền Lễ hội Lồng tồng', [{ filename: 'kế hoạch.pdf', data: await readFile(glyphs) }]);
      const [glyphFile] = rec.files;
      expect(glyphFile.metadata).toMatchObject({ pages: 2, garbledPages: [1, 2], pagesWithoutText: 2 });
      // Nothing of the glyph numbers is stored or indexed: "Danh" read as glyph numbers is "'DQK".
      const stored = t.app.db.sqlite.prepare('SELECT text FROM blob_texts WHERE sha256 = ? ORDER BY page').pluck().all(glyphFile.sha256);
      expect(stored.every((x) => x === '')).toBe(true);
      const garbage = (await t.app.inject({ url: '/api/search?q=DQK' })).json();
      expect(garbage.total).toBe(0);
      const page = (await t.app.inject({ url: `/san-pham/${rec.id}` })).body;
      expect(page).toContain('Không đọc được chữ của 2 trang (trang 1–2)');
      expect(page).toContain('Cần nhận dạng chữ (OCR)');
      const pageEn = (await t.app.inject({ url: `/san-pham/${rec.id}?lang=en` })).body;
      expect(pageEn).toContain('The text of 2 pages (pages 1–2) could not be read');
    } finally {
      await cleanup();
    }
  });
});
