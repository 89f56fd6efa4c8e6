import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { PDFDocument, PDFHexString, PDFName, PDFNumber, PDFString } from 'pdf-lib';
import { join } from 'node:path';
import sharp from 'sharp';
import { getExtractor } from '../../server/ingest/extractors/index.ts';
import { stopPdfHelpers } from '../../server/ingest/adapters/pdf.ts';
import { buildRawPdf, hasDejaVu, inputFor, makeFallbackFontPdf, makeHostilePdfs, makeSimplePdf, makeUnicodePdf, tempDir, VI_TEXT, failure } from '../helpers/fixtures.ts';

const pdf = getExtractor('pdf');
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => {
  await stopPdfHelpers();
  await cleanup();
});

const input = (path: string, limits = {}) => inputFor(path, 'pdf', 'application/pdf', dir, limits);
describe('pdf extractor', () => {
  it('reads properties, page count and text per page', async () => {
    const path = join(dir, 'props.pdf');
    await makeSimplePdf(path, ['First page line one\nline two', 'Second page', 'Third page'], { title: 'Ke hoach 199', author: 'Ban Tuyen giao', subject: 'Tuyen truyen', keywords: ['kho', 'tu lieu'] });
    const { metadata, pages } = await pdf.extract(await input(path));
    expect(metadata).toMatchObject({
      pages: 3, title: 'Ke hoach 199', author: 'Ban Tuyen giao', subject: 'Tuyen truyen', encrypted: false,
      createdAt: '2023-03-30T08:00:00.000Z', modifiedAt: '2023-04-01T09:30:00.000Z', producer: expect.stringMatching(/pdf-lib/),
    });
    expect(metadata.pdfVersion).toMatch(/^1\.\d$/);
    expect(metadata.keywords).toContain('kho');
    expect(pages).toEqual([
      { page: 1, text: 'First page line one\nline two' },
      { page: 2, text: 'Second page' },
      { page: 3, text: 'Third page' },
    ]);
  });

  it.skipIf(!hasDejaVu())('form field values and annotation notes are text of their page; passwords, check boxes, links and popups are not', async () => {
    const base = join(dir, 'form-base.pdf');
    await makeUnicodePdf(base, ['Phiếu đăng ký sản phẩm tuyên truyền', 'Trang hai']);
    const doc = await PDFDocument.load(await readFile(base));
    const form = doc.getForm();
    const [p1, p2] = doc.getPages();
    const fields: Array<[string, string, number]> = [['ten_san_pham', 'Tờ gấp Lễ hội Lồng tồng Ngọc Côn', 0], ['don_vi', 'Phòng Văn hoá huyện Trùng Khánh', 0], ['mat_khau', 'bí-mật-123', 0x2000]];
    for (const [name, value, flags] of fields) {
      const f = form.createTextField(name);
      f.addToPage(p1, { x: 50, y: 600 - fields.findIndex((x) => x[0] === name) * 40, width: 400, height: 24 });
      f.acroField.dict.set(PDFName.of('V'), PDFHexString.fromText(value));
      if (flags) f.acroField.dict.set(PDFName.of('Ff'), PDFNumber.of(flags));
    }
    form.createCheckBox('da_duyet').addToPage(p1, { x: 50, y: 400, width: 20, height: 20 });
    const note = doc.context.register(doc.context.obj({ Type: 'Annot', Subtype: 'Text', Rect: [50, 700, 70, 720], Contents: PDFHexString.fromText('Ghi chú: bổ sung số liệu xã Đàm Thuỷ'), T: PDFHexString.fromText('Nông Thị Hà') }));
    const popup = doc.context.register(doc.context.obj({ Type: 'Annot', Subtype: 'Popup', Rect: [80, 600, 280, 700], Contents: PDFHexString.fromText('Ghi chú: bổ sung số liệu xã Đàm Thuỷ'), Parent: note }));
    const link = doc.context.register(doc.context.obj({ Type: 'Annot', Subtype: 'Link', Rect: [50, 50, 150, 70], Contents: PDFHexString.fromText('Liên kết'), A: { S: PDFName.of('URI'), URI: PDFString.of('https://caobang.gov.vn') } }));
    p2.node.set(PDFName.of('Annots'), doc.context.obj([note, popup, link]));
    const path = join(dir, 'form.pdf');
    await writeFile(path, await doc.save({ updateFieldAppearances: false }));
    const { pages } = await pdf.extract(await input(path));
    expect(pages).toEqual([
      { page: 1, text: 'Phiếu đăng ký sản phẩm tuyên truyền\nTờ gấp Lễ hội Lồng tồng Ngọc Côn\nPhòng Văn hoá huyện Trùng Khánh' },
      { page: 2, text: 'Trang hai\nGhi chú: bổ sung số liệu xã Đàm Thuỷ' },
    ]);
  });

  it.skipIf(!hasDejaVu())('Vietnamese text drawn precomposed (NFC) or decomposed (NFD) comes out as the NFC source', async () => {
    for (const form of ['NFC', 'NFD'] as const) {
      const path = join(dir, `vi-${form}.pdf`);
      await makeUnicodePdf(path, [VI_TEXT, 'Trang hai: người Tày, Nùng, H’Mông, Dao'], { form, title: 'Tờ gấp tuyên truyền' });
      const { metadata, pages } = await pdf.extract(await input(path));
      expect(metadata.title).toBe('Tờ gấp tuyên truyền');
      expect(pages[0].text).toBe(VI_TEXT);
      expect(pages[1].text).toBe('Trang hai: người Tày, Nùng, H’Mông, Dao');
      expect(pages[0].text).toBe(pages[0].text.normalize('NFC'));
    }
  });

  // A font made in the test, and DejaVu Sans when the system has it.
  const fonts = hasDejaVu() ? [true, false] : [true];

  it('an Identity-H font without a ToUnicode map (or with the identity for one) is read through its embedded font cmap', async () => {
    for (const [toUnicode, madeFont] of (['none', 'identity'] as const).flatMap((u) => fonts.map((m) => [u, m] as const))) {
      const path = join(dir, `no-tounicode-${toUnicode}-${madeFont}.pdf`);
      await makeUnicodePdf(path, [VI_TEXT, 'Nội dung\nThe quick brown fox jumps over the lazy dog.'], { toUnicode, madeFont });
      const { metadata, pages } = await pdf.extract(await input(path));
      expect(pages).toEqual([
        { page: 1, text: VI_TEXT },
        { page: 2, text: 'Nội dung\nThe quick brown fox jumps over the lazy dog.' },
      ]);
      expect(metadata.garbledPages).toBeUndefined();
    }
  });

  it('pages of glyph numbers that no map explains are not stored as text and are listed as garbledPages', async () => {
    for (const madeFont of fonts) {
      const path = join(dir, `glyph-numbers-${madeFont}.pdf`);
      await makeUnicodePdf(path, [VI_TEXT, 'Nội dung\nThe quick brown fox jumps over the lazy dog.'], { toUnicode: 'none', fontCmap: false, madeFont });
      const { metadata, pages } = await pdf.extract(await input(path));
      expect(pages).toEqual([{ page: 1, text: '' }, { page: 2, text: '' }]);
      expect(metadata).toMatchObject({ pages: 2, garbledPages: [1, 2], pagesWithoutText: 2, textChars: 0 });
    }
  });

  it('page labels (/PageLabels: roman front matter, then arabic) are read into pageLabels; labels that are just 1..n are not kept', async () => {
    const base = join(dir, 'labels-base.pdf');
    await makeSimplePdf(base, ['Bia', 'Loi noi dau', 'Muc luc', 'Gioi thieu', 'Chuong 1', 'Chuong 2']);
    const doc = await PDFDocument.load(await readFile(base));
    const ctx = doc.context;
    doc.catalog.set(PDFName.of('PageLabels'), ctx.obj({ Nums: [0, ctx.obj({ S: PDFName.of('r') }), 4, ctx.obj({ S: PDFName.of('D') })] }));
    const path = join(dir, 'labels.pdf');
    await writeFile(path, await doc.save());
    expect((await pdf.extract(await input(path))).metadata.pageLabels).toEqual(['i', 'ii', 'iii', 'iv', '1', '2']);
    // A prefix and a start value: "A-7", "A-8"…; and labels equal to the page numbers are left out.
    doc.catalog.set(PDFName.of('PageLabels'), ctx.obj({ Nums: [0, ctx.obj({ S: PDFName.of('D'), P: PDFHexString.fromText('Phụ lục '), St: 7 })] }));
    await writeFile(path, await doc.save());
    expect((await pdf.extract(await input(path))).metadata.pageLabels).toEqual(['Phụ lục 7', 'Phụ lục 8', 'Phụ lục 9', 'Phụ lục 10', 'Phụ lục 11', 'Phụ lục 12']);
    doc.catalog.set(PDFName.of('PageLabels'), ctx.obj({ Nums: [0, ctx.obj({ S: PDFName.of('D') })] }));
    await writeFile(path, await doc.save());
    expect((await pdf.extract(await input(path))).metadata).not.toHaveProperty('pageLabels');
  });

  it('letters drawn late from a fallback font (as LibreOffice writes them) are put back into their words', async () => {
    const lines = [
      'Thác Bản Giốc ở huyện Trùng Khánh là thác nước tự nhiên hùng vĩ.',
      'Lãnh tụ Nguyễn Ái Quốc trở về nước năm 1941 ở Pác Bó.',
      'Đảng bộ tỉnh Cao Bằng lãnh đạo, chỉ đạo công tác tuyên truyền.',
      // Two late letters in one gap, a word space between them.
      'Các cụ ở xóm Nà Rẻo đã về dự họp; cán bộ ở Ủy ban xã.',
      // A gap where one run of text ends and the next begins (after a bold run): no blank item there.
      'Mô hình trồng cây thạch đen| ở xã Canh Tân.',
    ];
    const path = join(dir, 'fallback-font.pdf');
    await makeFallbackFontPdf(path, lines);
    const { pages } = await pdf.extract(await input(path));
    // Before: "Thác B n Gi c huy n … hùng v .ả ố ở ệ ướ ự ĩ"
    expect(pages[0].text).toBe(lines.join('\n').replace('|', ''));
    // A second-font letter drawn over ink already on the line (not into a gap) is not taken for one.
    const over = join(dir, 'fallback-font-over.pdf');
    await makeFallbackFontPdf(over, ['Thác Bản Giốc ở huyện Trùng Khánh'], { overInk: 'ự' });
    expect((await pdf.extract(await input(over))).pages[0].text).toBe('Thác Bản Giốc ở huyện Trùng Khánhự');
  });

  it('long document (pages shared out between two threads): every page comes back, in order', async () => {
    const path = join(dir, 'long.pdf');
    const n = 150;
    await makeSimplePdf(path, Array.from({ length: n }, (_, i) => `Page marker ${i + 1}\nSome body text for page ${i + 1}.`));
    const { metadata, pages } = await pdf.extract(await input(path));
    expect(metadata.pages).toBe(n);
    expect(pages.map((p) => p.page)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    pages.forEach((p, i) => expect(p.text.split('\n')[0]).toBe(`Page marker ${i + 1}`));
  });

  it('thumbnail: a blank first page (or two) is passed over for the first page with ink; an all-blank PDF keeps page 1', async () => {
    const inked = async (path: string) => {
      const { derivatives } = await pdf.thumbnail(await input(path));
      const s = await sharp(derivatives.find((d) => d.name === 'thumb-1024.webp')!.path).greyscale().stats();
      return s.channels[0].min < 100;
    };
    const one = join(dir, 'blank-first.pdf');
    await makeSimplePdf(one, ['', 'Noi dung bat dau tu trang hai']);
    expect(await inked(one)).toBe(true);
    const two = join(dir, 'blank-two.pdf');
    await makeSimplePdf(two, ['', '', 'Trang ba']);
    expect(await inked(two)).toBe(true);
    const none = join(dir, 'blank-all.pdf');
    await makeSimplePdf(none, ['', '', '', '']);
    expect(await inked(none)).toBe(false);
  });

  it('thumbnail: first page at 1024 and 256 px on the long side, portrait for A4', async () => {
    const path = join(dir, 'thumb.pdf');
    await makeSimplePdf(path, ['Hello thumbnail', 'page two']);
    const { derivatives } = await pdf.thumbnail(await input(path));
    const byName = Object.fromEntries(derivatives.map((d) => [d.name, d]));
    const big = await sharp(byName['thumb-1024.webp'].path).metadata();
    const small = await sharp(byName['thumb-256.webp'].path).metadata();
    expect(big).toMatchObject({ format: 'webp', height: 1024 });
    expect(big.width).toBeGreaterThan(700);
    expect(big.width).toBeLessThan(760);
    expect(small).toMatchObject({ format: 'webp', height: 256 });
    // White page with some dark text pixels.
    const s = await sharp(byName['thumb-1024.webp'].path).greyscale().stats();
    expect(s.channels[0].mean).toBeGreaterThan(240);
    expect(s.channels[0].min).toBeLessThan(100);
  });

  it('hostile files fail with a clear code, quickly', async () => {
    const h = await makeHostilePdfs(dir);
    const t0 = Date.now();
    expect((await failure(pdf.extract(await input(h.cycle)))).code).toBe('PDF_MALFORMED');
    expect((await failure(pdf.thumbnail(await input(h.cycle)))).code).toBe('PDF_MALFORMED');
    expect((await failure(pdf.extract(await input(h.bomb)))).code).toBe('PDF_DECOMPRESSION_BOMB');
    expect((await failure(pdf.thumbnail(await input(h.bomb)))).code).toBe('PDF_DECOMPRESSION_BOMB');
    expect((await failure(pdf.extract(await input(h.notPdf)))).code).toBe('PDF_MALFORMED');
    // A page count claim of a billion is not believed: pdf.js counts the real leaves.
    const huge = await pdf.extract(await input(h.hugeCount));
    expect(huge.metadata.pages).toBe(1);
    expect(Date.now() - t0).toBeLessThan(15_000);
    const empty = join(dir, 'empty.pdf');
    await writeFile(empty, '');
    expect((await failure(pdf.extract(await input(empty)))).code).toBe('EMPTY_FILE');
  });

  it('Info strings written as raw UTF-8 bytes (no BOM) are read as UTF-8; PDFDocEncoding strings are left as they are', async () => {
    const path = join(dir, 'utf8-info.pdf');
    // Many generators (FPDF/TCPDF-era PHP, some Vietnamese office tools) put UTF-8 bytes in Info
    // literals. pdf.js reads them as PDFDocEncoding, where bytes 0x80–0x9E are typographic signs
    // ("Lễ" is 4C E1 BB 85: 0x85 reads as an en dash).
    const literal = (s: string, enc: BufferEncoding) => Buffer.concat([Buffer.from('('), Buffer.from(s, enc), Buffer.from(')')]);
    const info = Buffer.concat([
      Buffer.from('<< /Title '), literal('Lễ hội Lồng Tồng – Ủy ban nhân dân huyện Hà Quảng', 'utf8'),
      Buffer.from(' /Author '), literal('Nguyễn Thị Hồng', 'utf8'),
      Buffer.from(' /Subject '), literal('Café crème à la française', 'latin1'),
      Buffer.from(' /Keywords <FEFF00421EB1006E0067002000430061006600E9>'), // UTF-16 (with a BOM) stays as it is
      Buffer.from(' >>'),
    ]);
    await writeFile(path, buildRawPdf([
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>',
      info,
    ], { info: 4 }));
    const { metadata } = await pdf.extract(await input(path));
    expect(metadata).toMatchObject({
      title: 'Lễ hội Lồng Tồng – Ủy ban nhân dân huyện Hà Quảng',
      author: 'Nguyễn Thị Hồng',
      subject: 'Café crème à la française',
      keywords: 'Bằng Café',
    });
  });

  it('a PDF with an empty page tree: the text has no page, the thumbnail fails permanently with a reason', async () => {
    const path = join(dir, 'no-pages.pdf');
    await writeFile(path, buildRawPdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [] /Count 0 >>']));
    const r = await pdf.extract(await input(path));
    expect(r.metadata.pages).toBe(0);
    expect(r.pages).toEqual([]);
    const e = await failure(pdf.thumbnail(await input(path)));
    expect(e.code).toBe('PDF_MALFORMED');
    expect(e.message).toMatch(/no pages/);
  });

  it('a 360-page book finishes well within the job limits', async () => {
    const path = join(dir, 'book.pdf');
    const body = 'Kho tu lieu chung cua De an: san pham tuyen truyen, giao duc truyen thong tinh Cao Bang.';
    await makeSimplePdf(path, Array.from({ length: 360 }, (_, i) => Array.from({ length: 30 }, (_, l) => `${i + 1}.${l + 1} ${body}`).join('\n')));
    const t0 = Date.now();
    const { metadata, pages } = await pdf.extract(await input(path));
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(metadata.pages).toBe(360);
    expect(pages[359].text.split('\n')[29]).toBe(`360.30 ${body}`);
  });

  it('a PDF that needs more than the time left fails with TIMEOUT, and the next job still works', async () => {
    // 60 MB of path operators: under the bomb cap, but seconds of pdf.js work.
    const { buildRawPdf, streamObject } = await import('../helpers/fixtures.ts');
    const path = join(dir, 'slow.pdf');
    await writeFile(path, buildRawPdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 4 0 R >>', streamObject('', Buffer.alloc(60 * 1024 * 1024, ' 1 1 m '))]));
    const t0 = Date.now();
    const err = await failure(pdf.extract(await input(path, { deadline: Date.now() + 600 })));
    expect(err.code).toBe('TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(6000);
    // The next job gets a fresh thread and works.
    const ok = join(dir, 'after.pdf');
    await makeSimplePdf(ok, ['still works']);
    expect((await pdf.extract(await input(ok))).pages[0].text).toBe('still works');
  });

  it('long document with one endless page: TIMEOUT for the job (the other thread stops taking pages), the next long job works', async () => {
    // 30 pages (read by both threads); page 25 holds 60 MB of path operators (seconds of pdf.js work).
    const { buildRawPdf, streamObject } = await import('../helpers/fixtures.ts');
    const n = 30;
    const objects: Array<string | Buffer> = [
      '<< /Type /Catalog /Pages 2 0 R >>',
      `<< /Type /Pages /Kids [${Array.from({ length: n }, (_, i) => `${4 + i * 2} 0 R`).join(' ')}] /Count ${n} >>`,
      '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    ];
    for (let i = 1; i <= n; i++) {
      objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + (i - 1) * 2} 0 R >>`);
      objects.push(streamObject('', i === 25 ? Buffer.alloc(60 * 1024 * 1024, ' 1 1 m ') : Buffer.from(`BT /F1 12 Tf 20 250 Td (Page ${i}) Tj ET`)));
    }
    const path = join(dir, 'slow-long.pdf');
    await writeFile(path, buildRawPdf(objects));
    const t0 = Date.now();
    const err = await failure(pdf.extract(await input(path, { deadline: Date.now() + 800 })));
    expect(err.code).toBe('TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(6000);
    const ok = join(dir, 'after-long.pdf');
    await makeSimplePdf(ok, Array.from({ length: 40 }, (_, i) => `Page ${i + 1}`));
    expect((await pdf.extract(await input(ok))).pages.map((p) => p.text)).toEqual(Array.from({ length: 40 }, (_, i) => `Page ${i + 1}`));
  });

  it('past the deadline: TIMEOUT', async () => {
    const path = join(dir, 'late.pdf');
    await makeSimplePdf(path, ['a', 'b']);
    expect((await failure(pdf.extract(await input(path, { deadline: Date.now() - 1 })))).code).toBe('TIMEOUT');
  });
});
