import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repairLegacyVietnamese } from '../../server/ingest/adapters/text-encoding.ts';
import { getExtractor } from '../../server/ingest/extractors/index.ts';
import { stopPdfHelpers } from '../../server/ingest/adapters/pdf.ts';
import { asTcvn3Typed, asVniTyped, inputFor, makeDoc, makeDocx, makeSimplePdf, makeXls, rtfHex, tempDir } from '../helpers/fixtures.ts';

const LINES = ['Cộng hoà xã hội chủ nghĩa Việt Nam', 'Báo cáo tổng kết công tác tuyên truyền năm 2023', 'Kế hoạch', 'Tài liệu về Khu di tích Pác Bó, tỉnh Cao Bằng'];

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => {
  await stopPdfHelpers();
  await cleanup();
});

describe('text typed in a TCVN3 font (.VnTime), as Office and PDF files hold it', () => {
  it('is read as TCVN3 line by line', () => {
    expect(asTcvn3Typed(LINES[0])).toBe('Céng hoµ x· héi chñ nghÜa ViÖt Nam');
    for (const line of LINES) expect(repairLegacyVietnamese(asTcvn3Typed(line))).toBe(line);
    // Lines in Unicode beside lines in TCVN3 (a document mixing fonts): each line on its own.
    expect(repairLegacyVietnamese(`${asTcvn3Typed(LINES[1])}\nĐộc lập - Tự do - Hạnh phúc\n${asTcvn3Typed(LINES[3])}`)).toBe(`${LINES[1]}\nĐộc lập - Tự do - Hạnh phúc\n${LINES[3]}`);
  });

  it('leaves Unicode Vietnamese, ASCII and other Latin-1 languages as they are', () => {
    for (const text of ['Cà Mau, Bà Rịa', 'Ông Bà ở quê', 'Café naïve à la française, déjà vu', 'Straße, Größe, über', 'TY heißt Teilraumtopologie und (Y, TY) heißt ein Teilraum von (X, T).', 'Ñandú y pingüino', 'São Paulo à noite', 'Prix 12,5 € – 3×4 cm, 20 °C', 'Øresund · Ålesund', 'Plain ASCII text, 2023.']) {
      expect(repairLegacyVietnamese(text), text).toBe(text);
    }
  });

  it('.doc, .docx and .xls: the text and the title come out in Unicode', async () => {
    const office = getExtractor('office');
    const doc = join(dir, 'cu.doc');
    await writeFile(doc, makeDoc([asTcvn3Typed(LINES[1]), 'Unicode: Độc lập - Tự do - Hạnh phúc'], { title: asTcvn3Typed(LINES[2]), author: 'Ban Tuyen giao', created: new Date('2005-03-30T08:00:00Z'), codePage: 1252 }));
    const d = await office.extract(await inputFor(doc, 'office', 'application/msword', dir));
    expect(d.pages).toEqual([{ page: 1, text: `${LINES[1]}\nUnicode: Độc lập - Tự do - Hạnh phúc` }]);
    expect(d.metadata).toMatchObject({ title: LINES[2], legacyFont: 'tcvn3', legacyLines: 1 });

    const docx = join(dir, 'cu.docx');
    await makeDocx(docx, LINES.map(asTcvn3Typed), { title: asTcvn3Typed(LINES[3]) });
    const x = await office.extract(await inputFor(docx, 'office', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', dir));
    expect(x.pages).toEqual([{ page: 1, text: LINES.join('\n') }]);
    expect(x.metadata).toMatchObject({ title: LINES[3] });

    const xls = join(dir, 'cu.xls');
    await writeFile(xls, makeXls([{ name: 'Danh muc', rows: [[asTcvn3Typed(LINES[3]), 1998]] }]));
    const s = await office.extract(await inputFor(xls, 'office', 'application/vnd.ms-excel', dir));
    expect(s.pages).toEqual([{ page: 1, text: `Danh muc\n${LINES[3]}\t1998` }]);
  });

  it('a PDF drawn in it (WinAnsi glyph names) comes out in Unicode', async () => {
    const path = join(dir, 'cu.pdf');
    await makeSimplePdf(path, [LINES.map(asTcvn3Typed).join('\n')], { title: asTcvn3Typed(LINES[1]) });
    const { pages, metadata } = await getExtractor('pdf').extract(await inputFor(path, 'pdf', 'application/pdf', dir));
    expect(pages[0].text.split('\n')).toEqual(LINES);
    expect(metadata).toMatchObject({ title: LINES[1], legacyFont: 'tcvn3', legacyLines: LINES.length });
  });
});

describe('text typed in a VNI font (VNI-Times), as Office and PDF files hold it', () => {
  const VNI_LINES = ['CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM', 'Độc lập - Tự do - Hạnh phúc', 'Tờ gấp giới thiệu Khu di tích Pác Bó, tỉnh Cao Bằng', 'Người Tày, Nùng, Dao đón Tết ở bản Khuổi Nặm', 'Ngày 19 tháng 5 năm 2004'];

  it('is read as VNI line by line; a heading of one word too, once the document shows its encoding', () => {
    expect(asVniTyped(VNI_LINES[1])).toBe('Ñoäc laäp - Töï do - Haïnh phuùc');
    expect(repairLegacyVietnamese(VNI_LINES.map(asVniTyped).join('\n'))).toBe(VNI_LINES.join('\n'));
    // Alone, a line with one Vietnamese word is not evidence enough; inside a VNI document it is read in VNI.
    expect(repairLegacyVietnamese(asVniTyped('thuỷ'))).toBe(asVniTyped('thuỷ'));
    expect(repairLegacyVietnamese([...VNI_LINES.slice(0, 3), 'VIỆT NAM', 'thuỷ'].map(asVniTyped).join('\n'))).toBe([...VNI_LINES.slice(0, 3), 'VIỆT NAM', 'thuỷ'].join('\n'));
    // Each line on its own: TCVN3 beside VNI beside Unicode.
    expect(repairLegacyVietnamese(`${asTcvn3Typed(LINES[1])}\n${asVniTyped(VNI_LINES[2])}\n${VNI_LINES[3]}`)).toBe(`${LINES[1]}\n${VNI_LINES[2]}\n${VNI_LINES[3]}`);
    for (const text of ['Señor Muñoz vivía en la mañana con niños pequeños en España', 'Ñandú y pingüino', 'Kích thước 5 µm']) expect(repairLegacyVietnamese(text), text).toBe(text);
  });

  it('.doc, RTF and PDF: the text comes out in Unicode', async () => {
    // RTF in a VNI font: 8-bit text in the document's code page (Windows-1252), as Word writes it.
    const rtf = join(dir, 'vni.rtf');
    const body = VNI_LINES.map((l) => rtfHex(Buffer.from(asVniTyped(l), 'latin1'))).join('\\par ');
    await writeFile(rtf, `{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0\\fnil VNI-Times;}}\\f0 ${body}\\par}`);
    const r = await getExtractor('office').extract(await inputFor(rtf, 'office', 'application/rtf', dir));
    expect(r.pages).toEqual([{ page: 1, text: VNI_LINES.join('\n') }]);
    const doc = join(dir, 'vni.doc');
    await writeFile(doc, makeDoc(VNI_LINES.map(asVniTyped)));
    const d = await getExtractor('office').extract(await inputFor(doc, 'office', 'application/msword', dir));
    expect(d.pages).toEqual([{ page: 1, text: VNI_LINES.join('\n') }]);
    expect(d.metadata).toMatchObject({ legacyFont: 'vni', legacyLines: VNI_LINES.length });
    const pdf = join(dir, 'vni.pdf');
    await makeSimplePdf(pdf, [VNI_LINES.map(asVniTyped).join('\n')]);
    const p = await getExtractor('pdf').extract(await inputFor(pdf, 'pdf', 'application/pdf', dir));
    expect(p.pages[0].text.split('\n')).toEqual(VNI_LINES);
  });

  it('plain text saved from a VNI font (read as Windows-1252, or converted to UTF-8 so) comes out in Unicode, and says so', async () => {
    for (const [name, data, encoding] of [
      ['vni-1252.txt', Buffer.from(VNI_LINES.map(asVniTyped).join('\r\n'), 'latin1'), /^(iso-8859-1|windows-1252)$/],
      ['vni-utf8.txt', Buffer.from(VNI_LINES.map(asVniTyped).join('\n'), 'utf8'), /^utf-8$/],
    ] as const) {
      const path = join(dir, name);
      await writeFile(path, data);
      const { pages, metadata } = await getExtractor('text').extract(await inputFor(path, 'text', 'text/plain', dir));
      expect(pages).toEqual([{ page: 1, text: VNI_LINES.join('\n') }]);
      expect(metadata).toMatchObject({ encoding: expect.stringMatching(encoding), legacyFont: 'vni', legacyLines: VNI_LINES.length });
    }
  });

  it('plain text from a VNI font that chardet takes for Windows-1258 (ị, ỉ, ĩ, ã) is read as VNI on every line', async () => {
    // chardet 2.x guesses windows-1258 for these bytes (checked when this test was written).
    const lines = ['Khu di tích lịch sử Pác Bó, huyện Hà Quảng, tỉnh Cao Bằng.', 'Nơi Bác Hồ về nước năm 1941.'];
    const path = join(dir, 'vni-1258-guess.txt');
    await writeFile(path, Buffer.from(lines.map(asVniTyped).join('\r\n'), 'latin1'));
    const { pages, metadata } = await getExtractor('text').extract(await inputFor(path, 'text', 'text/plain', dir));
    expect(pages).toEqual([{ page: 1, text: lines.join('\n') }]);
    expect(metadata).toMatchObject({ encoding: expect.stringMatching(/^(iso-8859-1|windows-1252)$/), legacyFont: 'vni', legacyLines: lines.length });
  });
});
