/**
 * PDF page labels and unreadable PDF text through the real app and job workers: a hit on a page with
 * a label names the label (API `pageLabel`, search page, record page) while links keep the physical
 * page; pages whose font gives glyph numbers are not indexed and the record page says they need OCR.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PDFDocument, PDFName } from 'pdf-lib';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { makeUnicodePdf, tempDir } from '../helpers/fixtures.ts';

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

const FRONT = ['Bìa sách', 'Lời nói đầu của Ban Tuyên giáo', 'Mục lục', 'Lời giới thiệu'];
const BODY = ['Chương 1. Khu di tích Pác Bó, nơi lãnh tụ Nguyễn Ái Quốc về nước năm 1941.', 'Chương 2. Thác Bản Giốc ở huyện Trùng Khánh.'];
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

describe('PDF page labels and unreadable text', () => {
  it('a hit on a labelled page names its label in the API, the search page and the record page; links keep the physical page', async () => {
    const { dir, cleanup } = await tempDir('kho-pdfpages-');
    try {
      t = await makeTestApp({ jobs: { workers: 1 } });
      // Four front-matter pages numbered i–iv, then the body from 1: physical page 5 is "1".
      const base = join(dir, 'sach-base.pdf');
      await makeUnicodePdf(base, [...FRONT, ...BODY], { madeFont: true });
      const doc = await PDFDocument.load(await readFile(base));
      doc.catalog.set(PDFName.of('PageLabels'), doc.context.obj({ Nums: [0, doc.context.obj({ S: PDFName.of('r') }), 4, doc.context.obj({ S: PDFName.of('D') })] }));
      const book = Buffer.from(await doc.save());
      const rec = await publish(t.app, 'Sách Pác Bó', [{ filename: 'sách.pdf', data: book }]);
      const id = rec.id as number;
      const [bookFile] = rec.files;
      expect(bookFile.metadata.pageLabels).toEqual(['i', 'ii', 'iii', 'iv', '1', '2']);

      // API: `page` stays the physical page, `pageLabel` is what the book prints on it.
      const answer = await t.app.inject({ url: `/api/search?q=${encodeURIComponent('khu di tích pác bó')}` });
      expect(answer.statusCode).toBe(200);
      const res = answer.json();
      const snip = res.hits.find((h: { id: number }) => h.id === id)?.snippets.find((s: { field: string }) => s.field === 'text');
      expect(snip).toMatchObject({ page: 5, pageLabel: '1', unit: 'page', sha256: bookFile.sha256 });
      const front = (await t.app.inject({ url: `/api/search?q=${encodeURIComponent('lời nói đầu')}` })).json();
      expect(front.hits[0].snippets.find((s: { field: string }) => s.field === 'text')).toMatchObject({ page: 2, pageLabel: 'ii' });

      // Search page: the label in the passage's page name, the physical page in its link.
      const vi = (await t.app.inject({ url: `/?q=${encodeURIComponent('khu di tích pác bó')}` })).body;
      expect(vi).toContain(`href="/san-pham/${id}?trang=5&amp;tep=${bookFile.sha256}">(trang 1)</a>`);
      const en = (await t.app.inject({ url: `/?q=${encodeURIComponent('lời nói đầu')}&lang=en` })).body;
      expect(en).toContain(`href="/san-pham/${id}?trang=2&amp;tep=${bookFile.sha256}">(page ii)</a>`);

      // Record page: the viewer opens at the physical page; the link says the label.
      const page = (await t.app.inject({ url: `/san-pham/${id}?trang=5&tep=${bookFile.sha256}` })).body;
      expect(page).toContain(`src="/api/files/${bookFile.sha256}#page=5"`);
      expect(page).toContain('Mở tại trang 1</a>');
      const pageEn = (await t.app.inject({ url: `/san-pham/${id}?trang=2&tep=${bookFile.sha256}&lang=en` })).body;
      expect(pageEn).toContain(`#page=2`);
      expect(pageEn).toContain('Open at page ii</a>');

    } finally {
      await cleanup();
    }
  });

  it('pages whose font gives glyph numbers are not indexed, and the record page says they need OCR', async () => {
    const { dir, cleanup } = await tempDir('kho-pdfpages-');
    try {
      t = await makeTestApp({ jobs: { workers: 1 } });
      // Its font's ToUnicode map and its own cmap both left out: the text is glyph numbers.
      const glyphs = join(dir, 'ke-hoach.pdf');
      await makeUnicodePdf(glyphs, UNREADABLE, { toUnicode: 'none', fontCmap: false, madeFont: true });
      const rec = await publish(t.app, 'Kế hoạch tuyên truyền Lễ hội Lồng tồng', [{ filename: 'kế hoạch.pdf', data: await readFile(glyphs) }]);
      const [glyphFile] = rec.files;
      expect(glyphFile.metadata).toMatchObject({ pages: 2, garbledPages: [1, 2], pagesWithoutText: 2 });
      // Nothing of the glyph numbers is stored or indexed: "Danh" read as glyph numbers is "'DQK"
      // (glyph = code point − 29 in the made font, as in full fonts).
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

  it('a scanned PDF (pages that are only pictures) says on its record page that it has no text and needs OCR', async () => {
    const { dir, cleanup } = await tempDir('kho-pdfpages-');
    try {
      t = await makeTestApp({ jobs: { workers: 1 } });
      const doc = await PDFDocument.create();
      const scan = await doc.embedJpg(await sharp({ create: { width: 620, height: 877, channels: 3, background: '#f3efe4' } })
        .composite([{ input: { create: { width: 450, height: 20, channels: 3, background: '#222' } }, top: 100, left: 85 }]).jpeg().toBuffer());
      for (let i = 0; i < 2; i++) doc.addPage([595, 842]).drawImage(scan, { x: 0, y: 0, width: 595, height: 842 });
      doc.setTitle('Công văn số 15 của Ban Tuyên giáo (bản quét)');
      const scanned = await publish(t.app, 'Công văn số 15 (bản quét)', [{ filename: 'công văn.pdf', data: Buffer.from(await doc.save()) }]);
      expect(scanned.files[0].metadata).toMatchObject({ pages: 2, textChars: 0, pagesWithoutText: 2 });
      const page = (await t.app.inject({ url: `/san-pham/${scanned.id}` })).body;
      expect(page).toContain('Không tìm thấy chữ nào trong tệp PDF này');
      expect(page).toContain('Cần nhận dạng chữ (OCR)');
      expect((await t.app.inject({ url: `/san-pham/${scanned.id}?lang=en` })).body).toContain('No text was found in this PDF');
      // A PDF with text says nothing of the kind.
      const texted = join(dir, 'co-chu.pdf');
      await makeUnicodePdf(texted, BODY);
      const withText = await publish(t.app, 'Sách có chữ', [{ filename: 'sách.pdf', data: await readFile(texted) }]);
      expect((await t.app.inject({ url: `/san-pham/${withText.id}` })).body).not.toContain('Không tìm thấy chữ nào');
    } finally {
      await cleanup();
    }
  });
});
