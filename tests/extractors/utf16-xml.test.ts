/**
 * Office, ODF and EPUB packages whose XML parts are UTF-16 (a byte order mark and
 * `encoding="UTF-16"`, as some Word exporters and converters write them) read as their UTF-8 twins.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getExtractor } from '../../server/ingest/extractors/index.ts';
import { failure, inputFor, makeDocx, makeEpub, makeOdt, makePptx, makeXlsx, tempDir, VI_SLIDES, VI_TEXT } from '../helpers/fixtures.ts';

const office = getExtractor('office');
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('kho-utf16-')));
afterAll(() => cleanup());

const TEXT_PART = /\.(xml|rels|opf|xhtml|html|ncx)$/i;

/** The package at `path` rewritten with every XML part in UTF-16 (with its BOM and an `encoding="UTF-16"` declaration). */
async function asUtf16(path: string, out: string, endian: 'le' | 'be' = 'le', bom = true): Promise<void> {
  const entries = unzipSync(await readFile(path));
  const rewritten: Record<string, Uint8Array | [Uint8Array, { level: 0 }]> = {};
  for (const [name, data] of Object.entries(entries)) {
    if (name === 'mimetype') {
      rewritten[name] = [data, { level: 0 }];
      continue;
    }
    if (!TEXT_PART.test(name)) {
      rewritten[name] = data;
      continue;
    }
    let xml = strFromU8(data).replace(/^\uFEFF/, '').replace(/encoding="UTF-8"/i, 'encoding="UTF-16"');
    if (!xml.startsWith('<?xml')) xml = `<?xml version="1.0" encoding="UTF-16"?>${xml}`;
    const le = Buffer.from((bom ? '\uFEFF' : '') + xml, 'utf16le');
    rewritten[name] = endian === 'le' ? le : Buffer.from(le).swap16();
  }
  await writeFile(out, zipSync(rewritten));
}

describe('UTF-16 XML parts', () => {
  it('DOCX (little- and big-endian, with a BOM, and little-endian without): body, notes and properties as from UTF-8', async () => {
    const utf8 = join(dir, 'van-ban.docx');
    const footnotes = '<?xml version="1.0" encoding="UTF-8"?><w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:footnote w:id="1"><w:p><w:r><w:t>Chú thích: Tỉnh uỷ Cao Bằng.</w:t></w:r></w:p></w:footnote></w:footnotes>';
    await makeDocx(utf8, VI_TEXT.split('\n'), { title: 'Kế hoạch 199-KH/TU', creator: 'Ban Tuyên giáo' }, { body: '<w:p><w:r><w:footnoteReference w:id="1"/></w:r></w:p>', parts: { 'word/footnotes.xml': footnotes } });
    const expected = await office.extract(await inputFor(utf8, 'office', DOCX, dir));
    expect(expected.pages[0].text).toContain('Chú thích: Tỉnh uỷ Cao Bằng.');
    for (const [endian, bom] of [['le', true], ['be', true], ['le', false]] as const) {
      const path = join(dir, `van-ban-${endian}-${bom}.docx`);
      await asUtf16(utf8, path, endian, bom);
      const got = await office.extract(await inputFor(path, 'office', DOCX, dir));
      expect(got.pages, `${endian} ${bom}`).toEqual(expected.pages);
      expect(got.metadata).toMatchObject({ format: 'docx', title: 'Kế hoạch 199-KH/TU', author: 'Ban Tuyên giáo' });
    }
  });

  it('ODT, XLSX, PPTX and EPUB read as their UTF-8 twins', async () => {
    const cases: Array<[string, string, (p: string) => Promise<void>]> = [
      ['odt', 'application/vnd.oasis.opendocument.text', (p) => makeOdt(p, VI_TEXT.split('\n'), { title: 'Địa chí Cao Bằng', creator: 'Sở Văn hoá' })],
      ['xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', (p) => makeXlsx(p, { title: 'Thống kê sản phẩm' })],
      ['pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation', (p) => makePptx(p, VI_SLIDES, { title: 'Bài giảng lịch sử Đảng bộ' })],
      ['epub', 'application/epub+zip', (p) => makeEpub(p, [{ title: 'Chương 1. Đất và người', paragraphs: ['Cao Bằng là tỉnh biên giới – miền núi.'] }], { title: 'Địa chí Cao Bằng', creators: ['Ban Tuyên giáo Tỉnh uỷ'] })],
    ];
    for (const [ext, mediaType, make] of cases) {
      const utf8 = join(dir, `a.${ext}`);
      await make(utf8);
      const expected = await office.extract(await inputFor(utf8, 'office', mediaType, dir));
      expect(expected.pages.map((p) => p.text).join('').length, ext).toBeGreaterThan(10);
      const path = join(dir, `a-utf16.${ext}`);
      await asUtf16(utf8, path);
      const got = await office.extract(await inputFor(path, 'office', mediaType, dir));
      expect(got.pages, ext).toEqual(expected.pages);
      expect(got.metadata, ext).toEqual(expected.metadata);
    }
  });

  it('a UTF-16 part keeps the protections: a DOCTYPE entity is not expanded, a part past the cap is refused', async () => {
    const utf8 = join(dir, 'thuc-the.docx');
    const core = '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE cp:coreProperties [<!ENTITY a "Ha ha ha ha ha ha ha ha">]><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Tiêu đề &a;</dc:title></cp:coreProperties>';
    await makeDocx(utf8, ['Văn bản'], {}, { parts: { 'docProps/core.xml': core } });
    const path = join(dir, 'thuc-the-utf16.docx');
    await asUtf16(utf8, path);
    const { metadata } = await office.extract(await inputFor(path, 'office', DOCX, dir));
    expect(String(metadata.title ?? '')).not.toContain('Ha ha');

    // 26 M UTF-16 characters: 52 MB of bytes, past the 48 MB entry cap (measured on bytes, before decoding).
    const bomb = join(dir, 'bom-utf16.docx');
    const big = Buffer.from(`\uFEFF<?xml version="1.0" encoding="UTF-16"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${' '.repeat(26_000_000)}</w:body></w:document>`, 'utf16le');
    await writeFile(bomb, zipSync({ 'word/document.xml': big, '[Content_Types].xml': strToU8('<Types/>') }, { level: 1 }));
    expect((await failure(office.extract(await inputFor(bomb, 'office', DOCX, dir)))).code).toBe('OFFICE_TOO_LARGE');
  });
});
