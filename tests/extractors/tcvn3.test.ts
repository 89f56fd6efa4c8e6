import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repairTcvn3 } from '../../server/ingest/adapters/text-encoding.ts';
import { getExtractor } from '../../server/ingest/extractors/index.ts';
import { stopPdfHelpers } from '../../server/ingest/adapters/pdf.ts';
import { asTcvn3Typed, inputFor, makeDoc, makeDocx, makeSimplePdf, makeXls, tempDir } from '../helpers/fixtures.ts';

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
    for (const line of LINES) expect(repairTcvn3(asTcvn3Typed(line))).toBe(line);
    // Lines in Unicode beside lines in TCVN3 (a document mixing fonts): each line on its own.
    expect(repairTcvn3(`${asTcvn3Typed(LINES[1])}\nĐộc lập - Tự do - Hạnh phúc\n${asTcvn3Typed(LINES[3])}`)).toBe(`${LINES[1]}\nĐộc lập - Tự do - Hạnh phúc\n${LINES[3]}`);
  });

  it('leaves Unicode Vietnamese, ASCII and other Latin-1 languages as they are', () => {
    for (const text of ['Cà Mau, Bà Rịa', 'Ông Bà ở quê', 'Café naïve à la française, déjà vu', 'Straße, Größe, über', 'TY heißt Teilraumtopologie und (Y, TY) heißt ein Teilraum von (X, T).', 'Ñandú y pingüino', 'São Paulo à noite', 'Prix 12,5 € – 3×4 cm, 20 °C', 'Øresund · Ålesund', 'Plain ASCII text, 2023.']) {
      expect(repairTcvn3(text), text).toBe(text);
    }
  });

  it('.doc, .docx and .xls: the text and the title come out in Unicode', async () => {
    const office = getExtractor('office');
    const doc = join(dir, 'cu.doc');
    await writeFile(doc, makeDoc([asTcvn3Typed(LINES[1]), 'Unicode: Độc lập - Tự do - Hạnh phúc'], { title: asTcvn3Typed(LINES[2]), author: 'Ban Tuyen giao', created: new Date('2005-03-30T08:00:00Z'), codePage: 1252 }));
    const d = await office.extract(await inputFor(doc, 'office', 'application/msword', dir));
    expect(d.pages).toEqual([{ page: 1, text: `${LINES[1]}\nUnicode: Độc lập - Tự do - Hạnh phúc` }]);
    expect(d.metadata).toMatchObject({ title: LINES[2] });

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
    expect(metadata).toMatchObject({ title: LINES[1] });
  });
});
