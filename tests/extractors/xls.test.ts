import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getExtractor } from '../../server/ingest/extractors/index.ts';
import { sniffFile } from '../../server/ingest/sniff.ts';
import CFB from 'cfb';
import { failure, inputFor, makeXls, tempDir, type XlsSheet } from '../helpers/fixtures.ts';

const office = getExtractor('office');
const XLS = 'application/vnd.ms-excel';
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

const SHEETS: XlsSheet[] = [
  {
    name: 'Ấn phẩm 2023',
    rows: [
      ['Tên ấn phẩm', 'Loại', 'Số lượng', 'Giá', 'Đã nộp'],
      ['Tờ gấp Khu di tích Pác Bó', 'tờ gấp', 5000, 1250.5, true],
      ['Bản đồ du lịch Thác Bản Giốc', 'bản đồ', 2000, 3000, false],
      // Row 4 left empty; a formula with a string result, then whole numbers side by side (one MULRK).
      [],
      [{ formula: 'Tổng cộng' }, null, { formula: 7000 }],
      [2021, 2022, 2023],
    ],
  },
  { name: 'Biểu đồ', rows: [], chart: true },
  { name: 'Ghi chú', rows: [['Nộp lưu chiểu về Ban Tuyên giáo Tỉnh uỷ Cao Bằng'], ['Latin-1 only: café, naïve']] },
];
const EXPECTED = [
  'Ấn phẩm 2023\n' +
    ['Tên ấn phẩm\tLoại\tSố lượng\tGiá\tĐã nộp', 'Tờ gấp Khu di tích Pác Bó\ttờ gấp\t5000\t1250.5\tTRUE', 'Bản đồ du lịch Thác Bản Giốc\tbản đồ\t2000\t3000\tFALSE', 'Tổng cộng\t7000', '2021\t2022\t2023'].join('\n'),
  'Ghi chú\nNộp lưu chiểu về Ban Tuyên giáo Tỉnh uỷ Cao Bằng\nLatin-1 only: café, naïve',
];

describe('Excel 97–2003 .xls', () => {
  it('is sniffed from its bytes (the Workbook stream), whatever its name', async () => {
    const path = join(dir, 'bang-tinh.dat');
    await writeFile(path, makeXls(SHEETS));
    const { readFile } = await import('node:fs/promises');
    const r = await sniffFile(path, (await readFile(path)).subarray(0, 4100));
    expect(r.ok && r.info.mediaType).toBe(XLS);
  });

  it('one page per worksheet in workbook order, headed by its name: strings, numbers, booleans, cached formula values; charts left out; summary properties', async () => {
    const path = join(dir, 'an-pham.xls');
    await writeFile(path, makeXls(SHEETS, { summary: { title: 'Danh mục ấn phẩm tuyên truyền', author: 'Sở Văn hoá', created: new Date('2023-05-02T01:00:00Z') } }));
    const { metadata, pages } = await office.extract(await inputFor(path, 'office', XLS, dir));
    expect(pages).toEqual(EXPECTED.map((text, i) => ({ page: i + 1, text })));
    expect(metadata).toMatchObject({ format: 'xls', sheets: ['Ấn phẩm 2023', 'Ghi chú'], sheetCount: 2, title: 'Danh mục ấn phẩm tuyên truyền', author: 'Sở Văn hoá' });
  });

  it('reads shared strings cut across CONTINUE records (UTF-16 going on as Latin-1 after the option byte)', async () => {
    // Records of at most 40 bytes: nearly every string is cut, some in the middle of a UTF-16 run.
    for (const maxRecord of [40, 41, 57]) {
      const path = join(dir, `cat-${maxRecord}.xls`);
      await writeFile(path, makeXls(SHEETS, { maxRecord }));
      const { pages } = await office.extract(await inputFor(path, 'office', XLS, dir));
      expect(pages.map((p) => p.text)).toEqual(EXPECTED);
    }
  });

  it('Excel 5/95 workbooks: byte strings in the code page the workbook names (Windows-1258)', async () => {
    const path = join(dir, 'cu.xls');
    await writeFile(path, makeXls([{ name: 'Danh sách', rows: [['Đền thờ Hoàng Đình Giong', 1945], [{ formula: 'Huyện Hoà An' }]] }], { biff5: true }));
    const { pages } = await office.extract(await inputFor(path, 'office', XLS, dir));
    expect(pages).toEqual([{ page: 1, text: 'Danh sách\nĐền thờ Hoàng Đình Giong\t1945\nHuyện Hoà An' }]);
  });

  it('skips an embedded chart inside a sheet and keeps the cells after it', async () => {
    const path = join(dir, 'chart.xls');
    await writeFile(path, makeXls(SHEETS, { embeddedChart: 'Nhãn của biểu đồ' }));
    const { pages } = await office.extract(await inputFor(path, 'office', XLS, dir));
    expect(pages.map((p) => p.text)).toEqual(EXPECTED);
  });

  it('a password-protected workbook and one without a workbook stream fail clearly', async () => {
    const enc = join(dir, 'khoa.xls');
    await writeFile(enc, makeXls(SHEETS, { encrypted: true }));
    expect((await failure(office.extract(await inputFor(enc, 'office', XLS, dir)))).code).toBe('OFFICE_ENCRYPTED');
    const bad = join(dir, 'hong.xls');
    await writeFile(bad, Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(1024, 0)]));
    expect((await failure(office.extract(await inputFor(bad, 'office', XLS, dir)))).code).toBe('OFFICE_MALFORMED');
  });

  it('a sheet list naming the same sheet 20,000 times gives one page, read once, in linear time', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => [`Dòng ${i} của bảng kê ấn phẩm`, i]);
    const path = join(dir, 'lap.xls');
    await writeFile(path, makeXls([{ name: 'Bảng kê', rows }], { boundSheetCopies: 20_000 }));
    const t0 = Date.now();
    const { pages } = await office.extract(await inputFor(path, 'office', XLS, dir));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(pages).toHaveLength(1);
    expect(pages[0].text.split('\n')).toHaveLength(2001);
  });

  it('a sheet list naming an offset past the stream: that sheet is empty, the others are read', async () => {
    const cfb = CFB.read(makeXls(SHEETS), { type: 'buffer' });
    const entry = CFB.find(cfb, 'Workbook')!;
    const wb = Buffer.from(entry.content as Uint8Array);
    // The first BOUNDSHEET record (0x0085): its first field is the sheet's offset in the stream.
    let at = 0;
    while (wb.readUInt16LE(at) !== 0x0085) at += 4 + wb.readUInt16LE(at + 2);
    wb.writeUInt32LE(0x7ffffff0, at + 4);
    entry.content = wb;
    const path = join(dir, 'lech.xls');
    await writeFile(path, Buffer.from(CFB.write(cfb, { type: 'buffer' }) as Uint8Array));
    const { pages } = await office.extract(await inputFor(path, 'office', XLS, dir));
    expect(pages.map((p) => p.text)).toEqual(['Ấn phẩm 2023', EXPECTED[1]]);
  });
});
