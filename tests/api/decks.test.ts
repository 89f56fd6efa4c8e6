/**
 * Slide decks and formats browsers do not play, through the real app and job workers: a PPTX is
 * extracted slide by slide, a search hit names its slide, and the record page shows that slide; a
 * Windows Media video gets its frame and a word on downloading instead of a player that cannot play.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { asTcvn3Typed, ffmpeg, makeEpub, makePptx, makeXls, tempDir, VI_SLIDES } from '../helpers/fixtures.ts';

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

describe('slide decks and Windows Media', () => {
  it('a deck is searchable slide by slide and its record shows the slide found; a WMV is offered for download', async () => {
    const { dir, cleanup } = await tempDir('kho-decks-');
    try {
      t = await makeTestApp({ jobs: { workers: 1 } });
      const deck = join(dir, 'bai-giang.pptx');
      // Parts slide1..3 shown as 1, 3, 2: the tourism slide (part 3) is the deck's second slide.
      await makePptx(deck, VI_SLIDES, { title: 'Bài giảng', order: [1, 3, 2] });
      const wmv = join(dir, 'phong-su.wmv');
      await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=2', '-c:v', 'wmv2', wmv]);
      const book = join(dir, 'dia-chi.epub');
      await makeEpub(book, [
        { title: 'Chương 1. Đất và người', paragraphs: ['Cao Bằng là tỉnh biên giới.'] },
        { title: 'Chương 2. Truyền thống', paragraphs: ['Hang Cốc Bó, nơi Bác Hồ ở và làm việc năm 1941.'] },
      ], { title: 'Địa chí', creators: ['Ban Tuyên giáo'] });
      const { body, headers } = multipartBody({ title: 'Tư liệu tuyên truyền Pác Bó', type: 'document' }, [
        { filename: 'bài giảng.pptx', data: await readFile(deck) },
        { filename: 'phóng sự.wmv', data: await readFile(wmv) },
        { filename: 'địa chí.epub', data: await readFile(book) },
      ]);
      const up = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
      expect(up.statusCode).toBe(201);
      const id = up.json().id as number;
      await t.app.jobRunner.drain(60_000);
      for (const action of ['start_review', 'accept', 'publish']) {
        const r = await t.app.inject({ method: 'POST', url: `/api/products/${id}/transitions`, headers: auth(), payload: { action } });
        expect(r.statusCode, action).toBe(200);
      }
      const rec = (await t.app.inject({ url: `/api/products/${id}` })).json();
      expect(rec.processing).toBe('done');
      const [pptx, video, epub] = rec.files;
      expect(epub).toMatchObject({ kind: 'office', mediaType: 'application/epub+zip', metadata: expect.objectContaining({ format: 'epub', sections: 2 }) });
      expect(pptx).toMatchObject({ kind: 'office', metadata: expect.objectContaining({ format: 'pptx', slideCount: 3, notesCount: 2 }) });
      expect(video).toMatchObject({ kind: 'video', mediaType: 'video/x-ms-wmv', metadata: expect.objectContaining({ videoCodec: 'wmv2' }) });
      expect(video.derivatives).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'thumbnail', state: 'done' })]));
      expect(video.thumbnails.size1024).toBe(`/api/files/${video.sha256}/thumbnail?size=1024`);

      // Words of the deck's second slide (and of its speaker notes): the passage names slide 2.
      for (const q of ['thac ban gioc', 'tờ gấp bản đồ du lịch']) {
        const res = (await t.app.inject({ url: `/api/search?q=${encodeURIComponent(q)}` })).json();
        const snip = res.hits.find((h: { id: number }) => h.id === id)?.snippets.find((s: { field: string }) => s.field === 'text');
        expect(snip, q).toMatchObject({ page: 2, unit: 'slide', sha256: pptx.sha256 });
      }

      // A book's passage names its section, and the record opens on it.
      const inBook = (await t.app.inject({ url: `/api/search?q=${encodeURIComponent('hang coc bo')}` })).json();
      expect(inBook.hits[0].snippets.find((x: { field: string }) => x.field === 'text')).toMatchObject({ page: 2, unit: 'section', sha256: epub.sha256 });
      // The search page names the part as what it is.
      expect((await t.app.inject({ url: `/?q=${encodeURIComponent('hang coc bo')}` })).body).toContain('(phần 2)');
      expect((await t.app.inject({ url: `/?q=${encodeURIComponent('thac ban gioc')}` })).body).toContain('(trang chiếu 2)');
      const bookPage = (await t.app.inject({ url: `/san-pham/${id}?trang=2&tep=${epub.sha256}` })).body;
      expect(bookPage).toContain('2 phần');
      expect(bookPage).toContain('Phần 2, nơi tìm thấy từ khóa');
      expect(bookPage).toMatch(/<section class="slide current" id="file-3-section-2"/);
      expect(bookPage).not.toContain('class="slide current" id="file-1-slide');

      const page = await t.app.inject({ url: `/san-pham/${id}?trang=2&tep=${pptx.sha256}` });
      expect(page.statusCode).toBe(200);
      const html = page.body;
      expect(html).toContain('3 trang chiếu');
      // Formats by name in Vietnamese, not by media type.
      expect(html).toContain('Bài trình chiếu PowerPoint (PPTX)');
      expect(html).not.toContain('presentationml');
      // The slide found first, then every slide in the deck's order, each an anchor.
      const target = html.indexOf('class="slide-target"');
      expect(target).toBeGreaterThan(0);
      expect(html.indexOf('Trang chiếu 2, nơi tìm thấy từ khóa')).toBeGreaterThan(target);
      expect(html.indexOf('Thác Bản Giốc')).toBeGreaterThan(target);
      expect(html.indexOf('Thác Bản Giốc')).toBeLessThan(html.indexOf('id="file-1-slide-1"'));
      expect(html).toMatch(/<section class="slide current" id="file-1-slide-2"/);
      expect(html.indexOf('id="file-1-slide-1"')).toBeLessThan(html.indexOf('id="file-1-slide-3"'));
      expect(html).toContain('Hát then, đàn tính &amp; dân ca Tày – Nùng');
      // The WMV: its frame and a word on downloading, no <video> browsers cannot play.
      expect(html).toContain('Trình duyệt không phát được định dạng này (Video Windows Media (WMV))');
      expect(html).not.toContain('<video');
      expect(html).toContain(`/api/files/${video.sha256}/thumbnail?size=1024`);
    } finally {
      await cleanup();
    }
  });

  it('an Excel 97–2003 workbook is searchable sheet by sheet, and a hit names its sheet', async () => {
    t = await makeTestApp({ jobs: { workers: 1 } });
    const data = makeXls([
      // Typed in a TCVN3 font (.VnTime): read back as Unicode, and the record page says so.
      { name: 'Ấn phẩm', rows: [[asTcvn3Typed('Tờ gấp Khu di tích Pác Bó'), 5000]] },
      { name: 'Phát thanh', rows: [['Chương trình phát thanh loa truyền thanh cơ sở xã Quang Trung', 52]] },
    ]);
    const { body, headers } = multipartBody({ title: 'Danh mục sản phẩm tuyên truyền', type: 'document' }, [{ filename: 'danh mục.xls', data }]);
    const up = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
    expect(up.statusCode).toBe(201);
    const id = up.json().id as number;
    await t.app.jobRunner.drain(60_000);
    const rec = (await t.app.inject({ url: `/api/products/${id}`, headers: auth() })).json();
    expect(rec.files[0]).toMatchObject({ mediaType: 'application/vnd.ms-excel', metadata: expect.objectContaining({ format: 'xls', sheetCount: 2, sheets: ['Ấn phẩm', 'Phát thanh'] }) });
    const res = (await t.app.inject({ url: `/api/search?q=${encodeURIComponent('loa truyen thanh quang trung')}`, headers: auth() })).json();
    const snip = res.hits.find((h: { id: number }) => h.id === id)?.snippets.find((x: { field: string }) => x.field === 'text');
    expect(snip).toMatchObject({ page: 2, unit: 'sheet', sha256: rec.files[0].sha256 });
    expect(snip.text).toContain('<mark>Quang</mark> <mark>Trung</mark>');
    expect((await t.app.inject({ url: `/api/search?q=${encodeURIComponent('tờ gấp pác bó')}`, headers: auth() })).json().hits.map((h: { id: number }) => h.id)).toContain(id);
    const page = await t.app.inject({ url: `/san-pham/${id}`, headers: auth() });
    expect(page.body).toContain('gõ bằng phông TCVN3, đã chuyển sang Unicode');
  });
});
