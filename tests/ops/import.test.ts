import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../server/db/client.ts';
import { ACCESS_ALIASES, ACCESS_WORDS, foldKey, parseManifest, rowToRawFields, STATE_ALIASES, STATE_WORDS, TYPE_ALIASES, TYPE_WORDS } from '../../server/ops/manifest.ts';
import { formatImportReport, runImport, type ImportReport } from '../../server/ops/import.ts';
import { openStore, systemPrincipal, type OpsStore } from '../../server/ops/store.ts';
import { auth, makeDataDir, makeTestApp, multipartBody, testConfig } from '../helpers/app.ts';
import { makeJpeg, makePdf, makePng, randomBinary } from '../helpers/samples.ts';
import iconv from 'iconv-lite';
import { makeXls, makeXlsxTable, toCp1258Form } from '../helpers/fixtures.ts';
import { zipSync, strToU8 } from 'fflate';

const ROOT = resolve(import.meta.dirname, '../..');

// Every folder the import lists, in order: the real `readdir`, only watched.
const { listed } = vi.hoisted(() => ({ listed: [] as string[] }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const readdir = ((path: Parameters<typeof real.readdir>[0], ...rest: unknown[]) => {
    listed.push(String(path));
    return (real.readdir as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof real.readdir;
  return { ...real, readdir, default: { ...real, readdir } };
});

function seedAgencies(dbFile: string) {
  const db = openDatabase(dbFile);
  db.sqlite
    .prepare(`INSERT OR IGNORE INTO agencies (code, name, category) VALUES
      ('so-vhttdl', 'Sở Văn hoá, Thể thao và Du lịch', 'department'),
      ('bao-cao-bang', 'Báo Cao Bằng', 'press')`)
    .run();
  db.close();
}

async function run(store: OpsStore, folder: string, manifest: string, dryRun = false): Promise<ImportReport> {
  return runImport(
    { folder, manifestPath: manifest, dryRun, concurrency: 3, maxFileBytes: 1024 * 1024, principal: systemPrincipal() },
    { sqlite: store.db.sqlite, ingest: store.ingest, tmpDir: store.paths.tmpDir },
  );
}

describe('manifest parsing', () => {
  it('accepts Vietnamese headers with diacritics, a semicolon delimiter and a BOM', () => {
    const csv = '\uFEFFTệp;Tiêu đề;Loại;Cơ quan;Năm;Chủ đề;Ngôn ngữ\n"a.pdf|b.png";Lịch sử Đảng bộ tỉnh Cao Bằng;sách;so-vhttdl;2022;lịch sử, truyền thống;vi,tay\n';
    const m = parseManifest(Buffer.from(csv, 'utf8'));
    expect(m.problems).toEqual([]);
    expect(m.rows).toHaveLength(1);
    expect(m.rows[0].files).toEqual(['a.pdf', 'b.png']);
    const raw = rowToRawFields(m.rows[0]);
    expect(raw.title).toEqual(['Lịch sử Đảng bộ tỉnh Cao Bằng']);
    expect(raw.type).toEqual(['book']);
    expect(raw.subjects).toEqual(['lịch sử', 'truyền thống']);
    expect(raw.languages).toEqual(['vi', 'tay']);
  });

  it('parses the documented template (docs/import-template.csv)', async () => {
    const m = parseManifest(await readFile(join(ROOT, 'docs/import-template.csv')));
    expect(m.problems).toEqual([]);
    expect(m.rows).toHaveLength(3);
    expect(m.rows[0].files).toEqual(['sach/Lich su Dang bo tinh Cao Bang.pdf', 'sach/bia.jpg']);
    const raw = rowToRawFields(m.rows[0]);
    expect(raw).toMatchObject({ type: ['book'], access: ['public'], state: ['published'], releaseDate: ['2022-03-15'], printRun: ['1000'], copyShelf: ['Kệ A2-05'], subjects: ['lịch sử', 'Đảng bộ', 'truyền thống'] });
    expect(rowToRawFields(m.rows[1])).toMatchObject({ type: ['flyer'], languages: ['vi', 'tay'], coIssuers: ['bao-cao-bang'], planTask: ['2023-to-roi-du-lich-van-minh'] });
    expect(rowToRawFields(m.rows[2])).toMatchObject({ type: ['photo'], access: ['internal'] });
  });

  it('accepts English snake_case and camelCase headers', () => {
    const m = parseManifest(Buffer.from('file,title,type,release_date,printRun\nx.pdf,T,book,2023-01-02,500\n'));
    expect(m.problems).toEqual([]);
    expect(m.rows[0].values).toMatchObject({ releaseDate: '2023-01-02', printRun: '500' });
  });

  it('reports unknown and missing columns and non-UTF-8 bytes at once', () => {
    const m = parseManifest(Buffer.from('file,tiêu đề,màu sắc\nx.pdf,T,xanh\n'));
    expect(m.problems.map((p) => p.code).sort()).toEqual(['MISSING_COLUMN', 'UNKNOWN_COLUMN']);
    const french = Buffer.from('file,title,type\nx.pdf,Café crème à la française,book\n', 'latin1');
    expect(parseManifest(french).problems[0].code).toBe('NOT_UTF8');
  });

  it('reads a manifest saved as plain "CSV" by Excel on a Vietnamese Windows (Windows-1258), and says so', () => {
    const csv = 'Tệp,Tiêu đề,Loại,Mô tả\nto-gap.pdf,Tờ gấp Khu di tích Pác Bó,tờ gấp,Giới thiệu hang Cốc Bó và suối Lênin\n';
    const m = parseManifest(iconv.encode(toCp1258Form(csv), 'windows-1258'));
    expect(m.problems).toEqual([]);
    expect(m.encoding).toBe('windows-1258');
    expect(m.rows[0].values).toMatchObject({ title: 'Tờ gấp Khu di tích Pác Bó', description: 'Giới thiệu hang Cốc Bó và suối Lênin' });
    expect(parseManifest(Buffer.from(csv)).encoding).toBe('utf-8');
  });

  it('reads the first sheet of an XLSX, XLS or ODS workbook: a title row above the header, empty cells in place, date cells as dates', () => {
    const table = [
      ['Danh mục sản phẩm nộp lưu chiểu năm 2023', null, null, null, null],
      [],
      ['Tệp', 'Tiêu đề', 'Loại', 'Ngày phát hành', 'Năm'],
      ['to-gap.pdf', 'Tờ gấp Khu di tích Pác Bó', 'tờ gấp', 45015.375, 2023],
      ['ban-do.pdf', 'Bản đồ du lịch Cao Bằng', 'bản đồ', null, 2022],
    ];
    const xlsx = parseManifest(makeXlsxTable(table));
    const xls = parseManifest(makeXls([{ name: 'Danh mục', rows: table.map((r) => r.map((v) => (v === null ? null : v))) }]));
    for (const [m, encoding] of [[xlsx, 'xlsx'], [xls, 'xls']] as const) {
      expect(m.problems, encoding).toEqual([]);
      expect(m.encoding).toBe(encoding);
      expect(m.rows.map((r) => r.line)).toEqual([4, 5]);
      expect(m.rows[0].values).toEqual({ file: 'to-gap.pdf', title: 'Tờ gấp Khu di tích Pác Bó', type: 'tờ gấp', releaseDate: '2023-03-30', year: '2023' });
      // The empty date cell leaves the year in its own column.
      expect(m.rows[1].values).toEqual({ file: 'ban-do.pdf', title: 'Bản đồ du lịch Cao Bằng', type: 'bản đồ', year: '2022' });
    }
    // ODS (LibreOffice): repeated empty cells and rows, and the cells a merged cell covers, counted; numbers and dates from their values.
    const cell = (v: string) => `<table:table-cell office:value-type="string"><text:p>${v}</text:p></table:table-cell>`;
    const content = `<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="Danh mục">
      <table:table-row><table:table-cell table:number-columns-spanned="3" office:value-type="string"><text:p>Danh mục sản phẩm nộp lưu chiểu năm 2023</text:p></table:table-cell><table:covered-table-cell table:number-columns-repeated="2"/><table:table-cell table:number-columns-repeated="1021"/></table:table-row>
      <table:table-row table:number-rows-repeated="1"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>
      <table:table-row>${['Tệp', 'Tiêu đề', 'Loại', 'Ngày phát hành', 'Năm'].map(cell).join('')}</table:table-row>
      <table:table-row>${cell('to-gap.pdf')}${cell('Tờ gấp Khu di tích Pác Bó')}${cell('tờ gấp')}<table:table-cell office:value-type="date" office:date-value="2023-03-30"><text:p>30/03/2023</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="2023"><text:p>2.023</text:p></table:table-cell></table:table-row>
      <table:table-row>${cell('ban-do.pdf')}${cell('Bản đồ du lịch Cao Bằng')}<table:table-cell table:number-columns-spanned="2" office:value-type="string"><text:p>bản đồ</text:p></table:table-cell><table:covered-table-cell/><table:table-cell office:value-type="float" office:value="2022"><text:p>2.022</text:p></table:table-cell><table:table-cell table:number-columns-repeated="1019"/></table:table-row>
      <table:table-row table:number-rows-repeated="1048571"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>
    </table:table></office:spreadsheet></office:body></office:document-content>`;
    const ods = parseManifest(Buffer.from(zipSync({ mimetype: strToU8('application/vnd.oasis.opendocument.spreadsheet'), 'content.xml': strToU8(content) })));
    expect(ods.problems).toEqual([]);
    expect(ods.encoding).toBe('ods');
    expect(ods.rows.map((r) => r.line)).toEqual([4, 5]);
    expect(ods.rows[0].values).toEqual(xlsx.rows[0].values);
    expect(ods.rows[1].values).toEqual(xlsx.rows[1].values);
    // A ZIP that is no workbook, and a broken compound file, are refused with a code.
    const docx = Buffer.from(zipSync({ 'word/document.xml': strToU8('<w:document/>') }));
    expect(parseManifest(docx).problems[0].code).toBe('NOT_A_TABLE');
    expect(parseManifest(Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(600)])).problems[0].code).toBe('NOT_A_TABLE');
  });
});

describe('bulk import', () => {
  let dataDir: string;
  let folder: string;
  let store: OpsStore;
  let manifest: string;

  beforeAll(async () => {
    dataDir = await makeDataDir();
    folder = join(dataDir, 'backlog');
    await mkdir(join(folder, 'sách'), { recursive: true });
    const pdf = await makePdf(3, 'Lich su Dang bo tinh Cao Bang');
    await writeFile(join(folder, 'sách', 'Lịch sử Đảng bộ.pdf'), pdf);
    await writeFile(join(folder, 'ảnh Thác Bản Giốc.png'), await makePng(90, 60, 3));
    await writeFile(join(folder, 'bìa.jpg'), await makeJpeg(40, 40, 7));
    await writeFile(join(folder, 'bản sao.pdf'), pdf); // same bytes as the first PDF
    await writeFile(join(folder, 'lạ.bin'), randomBinary(5000));
    manifest = join(dataDir, 'items.csv');
    await writeFile(
      manifest,
      [
        'Tệp,Tiêu đề,Loại,Cơ quan,Năm,Chủ đề,Ngôn ngữ,Nhà xuất bản',
        '"sách/Lịch sử Đảng bộ.pdf;bìa.jpg",Lịch sử Đảng bộ tỉnh Cao Bằng,sách,so-vhttdl,2022,"lịch sử; truyền thống",vi,NXB Chính trị Quốc gia',
        'ảnh Thác Bản Giốc.png,Thác Bản Giốc mùa thu,ảnh,bao-cao-bang,2023,du lịch,vi,',
        'không có.pdf,Tờ gấp bị thiếu tệp,tờ gấp,so-vhttdl,2023,,vi,',
        'ảnh Thác Bản Giốc.png,Cơ quan không tồn tại,ảnh,so-khong-ton-tai,2023,,vi,',
        'bản sao.pdf,Bản sao trùng nội dung,sách,so-vhttdl,2022,,vi,',
        'lạ.bin,Tệp không rõ định dạng,khác,so-vhttdl,2021,,vi,',
        ',Thiếu cả tiêu đề tệp,loại-lạ,so-vhttdl,1700,,vi,',
      ].join('\n'),
    );
    const config = testConfig(dataDir, { jobs: { workers: 0 } });
    store = await openStore(config);
    seedAgencies(store.paths.dbFile);
  });
  afterAll(async () => {
    store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('dry run reports every problem of every row and writes nothing', async () => {
    const r = await run(store, folder, manifest, true);
    expect(r.totals).toMatchObject({ rows: 7, valid: 2, skipped: 1, failed: 4, imported: 0 });
    const byLine = new Map(r.rows.map((row) => [row.line, row]));
    expect(byLine.get(4)!.problems.map((p) => p.code)).toEqual(['FILE_MISSING']);
    expect(byLine.get(5)!.problems).toEqual([expect.objectContaining({ field: 'agency', message: expect.stringContaining('so-khong-ton-tai') })]);
    expect(byLine.get(6)!.problems.map((p) => p.code)).toEqual(['DUPLICATE_IN_MANIFEST']);
    expect(byLine.get(7)!.problems.map((p) => p.code)).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
    // A row with several problems lists them all (bad type, no file).
    // Bad type AND bad year are both reported, and the missing file.
    expect(byLine.get(8)!.problems).toEqual([expect.objectContaining({ field: 'type' }), expect.objectContaining({ field: 'year' }), expect.objectContaining({ code: 'NO_FILES' })]);
    expect((store.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n).toBe(0);
    expect((store.db.sqlite.prepare('SELECT count(*) AS n FROM blobs').get() as { n: number }).n).toBe(0);
  });

  it('imports good rows, skips the duplicate and fails bad rows with reasons', async () => {
    const r = await run(store, folder, manifest);
    expect(r.totals).toMatchObject({ rows: 7, imported: 2, skipped: 1, failed: 4 });
    const first = r.rows.find((row) => row.line === 2)!;
    expect(first, JSON.stringify(first)).toMatchObject({ status: 'imported' });
    const p = store.db.sqlite.prepare('SELECT * FROM products WHERE id = ?').get(first.productId) as Record<string, unknown>;
    expect(p.title).toBe('Lịch sử Đảng bộ tỉnh Cao Bằng');
    expect(p.type).toBe('book');
    expect(p.year).toBe(2022);
    expect(JSON.parse(p.subjects as string)).toEqual(['lịch sử', 'truyền thống']);
    expect(p.publisher).toBe('NXB Chính trị Quốc gia');
    const files = store.db.sqlite.prepare('SELECT original_name FROM product_files WHERE product_id = ? ORDER BY position').all(first.productId) as { original_name: string }[];
    expect(files.map((f) => f.original_name)).toEqual(['Lịch sử Đảng bộ.pdf', 'bìa.jpg']);
    // Same pipeline as an upload: jobs queued, audit entry written, blobs in the store.
    const jobs = store.db.sqlite.prepare(`SELECT count(*) AS n FROM jobs WHERE state = 'queued'`).get() as { n: number };
    expect(jobs.n).toBe(6); // 3 blobs × (extract, thumbnail)
    const audit = store.db.sqlite.prepare(`SELECT actor FROM audit_log WHERE action = 'create'`).all() as { actor: string }[];
    expect(audit).toHaveLength(2);
    expect(audit[0].actor).toBe('import');
    const text = formatImportReport(r);
    expect(text).toContain('imported: 2, skipped: 1, failed: 4');
    expect(text).toMatch(/line 4 FAILED \[FILE_MISSING\] không có\.pdf:/);
  });

  it('a re-run skips everything already in, by SHA-256', async () => {
    const r = await run(store, folder, manifest);
    expect(r.totals).toMatchObject({ imported: 0, skipped: 3, failed: 4 });
    expect(r.rows.filter((row) => row.status === 'skipped').every((row) => row.problems[0].code === 'ALREADY_IMPORTED')).toBe(true);
    expect((store.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n).toBe(2);
  });

  it('bytes an upload records while the import runs: the row is skipped as already in, or fails to be run again, never recorded twice', async () => {
    const raceFolder = join(dataDir, 'race');
    await mkdir(raceFolder, { recursive: true });
    await writeFile(join(raceFolder, 'đèo Mã Phục.png'), await makePng(40, 30, 201));
    await writeFile(join(raceFolder, 'hồ Ba Bể.png'), await makePng(40, 30, 202));
    await writeFile(join(raceFolder, 'núi Mắt Thần.png'), await makePng(40, 30, 203));
    const raceManifest = join(dataDir, 'race.csv');
    await writeFile(raceManifest, 'file,title,type\nđèo Mã Phục.png,Ảnh đèo Mã Phục,photo\nhồ Ba Bể.png|núi Mắt Thần.png,Ảnh hồ Ba Bể và núi Mắt Thần,photo\n');
    // Just before each row commits, an agency's upload (through the same pipeline) records the
    // row's first file: all of the first row, one of the two files of the second.
    const ingest = {
      ...store.ingest,
      commit: async (...args: Parameters<typeof store.ingest.commit>) => {
        const [, , files] = args;
        const copy = `${files[0].tempPath}.upload`;
        await writeFile(copy, await readFile(files[0].tempPath));
        await store.ingest.commit(systemPrincipal(), { title: 'Ảnh gửi lên cùng lúc', type: 'photo' } as Parameters<typeof store.ingest.commit>[1], [{ ...files[0], tempPath: copy }]);
        return store.ingest.commit(...args);
      },
    };
    const r = await runImport(
      { folder: raceFolder, manifestPath: raceManifest, dryRun: false, concurrency: 1, maxFileBytes: 1024 * 1024, principal: systemPrincipal() },
      { sqlite: store.db.sqlite, ingest, tmpDir: store.paths.tmpDir },
    );
    expect(r.rows.map((row) => [row.status, row.problems[0]?.code])).toEqual([['skipped', 'ALREADY_IMPORTED'], ['failed', 'STORE_CHANGED']]);
    const holders = store.db.sqlite.prepare(`SELECT p.title, count(*) AS n FROM product_files f JOIN products p ON p.id = f.product_id WHERE f.original_name IN ('đèo Mã Phục.png', 'hồ Ba Bể.png', 'núi Mắt Thần.png') GROUP BY p.id ORDER BY p.id`).all();
    expect(holders).toEqual([{ title: 'Ảnh gửi lên cùng lúc', n: 1 }, { title: 'Ảnh gửi lên cùng lúc', n: 1 }]);
    // The re-run records the second row; the first stays skipped.
    const again = await run(store, raceFolder, raceManifest);
    expect(again.rows.map((row) => row.status)).toEqual(['skipped', 'imported']);
  });

  it('a manifest in Windows-1258 (Excel\u2019s plain CSV): its file names and titles are read, and the report says how', async () => {
    const legacy = join(dataDir, 'items-1258.csv');
    await writeFile(legacy, iconv.encode(toCp1258Form('Tệp;Tiêu đề;Loại;Cơ quan\nảnh Thác Bản Giốc.png;Ảnh Thác Bản Giốc mùa nước;ảnh;bao-cao-bang\n'), 'windows-1258'));
    const r = await run(store, folder, legacy, true);
    expect(r.manifestProblems).toEqual([]);
    expect(r.manifestEncoding).toBe('windows-1258');
    expect(r.rows[0]).toMatchObject({ title: 'Ảnh Thác Bản Giốc mùa nước' });
    expect(r.rows[0].status === 'valid' || r.rows[0].problems[0]?.code === 'ALREADY_IMPORTED').toBe(true);
    expect(formatImportReport(r)).toContain('The manifest is not UTF-8: read as windows-1258');
    expect(formatImportReport(await run(store, folder, manifest, true))).not.toContain('not UTF-8');
  });

  it('an XLSX manifest goes through the same checks (files found by name, agency codes, types)', async () => {
    const book = join(dataDir, 'items.xlsx');
    await writeFile(book, makeXlsxTable([['Tệp', 'Tiêu đề', 'Loại', 'Cơ quan'], ['bìa.jpg', 'Bìa sách lịch sử Đảng bộ', 'ảnh', 'so-vhttdl'], ['không có.pdf', 'Tờ gấp bị thiếu tệp', 'tờ gấp', 'so-vhttdl']]));
    const r = await run(store, folder, book, true);
    expect(r.manifestProblems).toEqual([]);
    expect(r.rows.map((row) => [row.line, row.title])).toEqual([[2, 'Bìa sách lịch sử Đảng bộ'], [3, 'Tờ gấp bị thiếu tệp']]);
    expect(r.rows[1].problems[0].code).toBe('FILE_MISSING');
  });
});

describe('import of a backlog as operators have it', () => {
  let dataDir: string;
  let store: OpsStore;
  beforeAll(async () => {
    dataDir = await makeDataDir();
    store = await openStore(testConfig(dataDir, { jobs: { workers: 0 } }));
    seedAgencies(store.paths.dbFile);
  });
  afterAll(async () => {
    store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('the documented template passes a dry run (with its files made up)', async () => {
    const folder = join(dataDir, 'template');
    await mkdir(join(folder, 'sach'), { recursive: true });
    await mkdir(join(folder, 'to-gap'), { recursive: true });
    await mkdir(join(folder, 'anh'), { recursive: true });
    await writeFile(join(folder, 'sach', 'Lich su Dang bo tinh Cao Bang.pdf'), await makePdf(2, 'Lich su'));
    await writeFile(join(folder, 'sach', 'bia.jpg'), await makeJpeg(40, 40, 1));
    await writeFile(join(folder, 'to-gap', 'Non nuoc Cao Bang.pdf'), await makePdf(1, 'Non nuoc'));
    await writeFile(join(folder, 'anh', 'Thac Ban Gioc.jpg'), await makeJpeg(40, 40, 2));
    const r = await run(store, folder, join(ROOT, 'docs/import-template.csv'), true);
    expect(r.manifestProblems).toEqual([]);
    expect(r.rows.map((row) => row.problems), JSON.stringify(r.rows)).toEqual([[], [], []]);
    expect(r.totals).toMatchObject({ rows: 3, valid: 3 });
  });

  it('takes the template\'s DD/MM/YYYY dates and 1.000 print runs', async () => {
    const folder = join(dataDir, 'dates');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'a.png'), await makePng(30, 20, 11));
    await writeFile(join(folder, 'b.png'), await makePng(30, 20, 12));
    const manifest = join(dataDir, 'dates.csv');
    await writeFile(manifest, 'Tệp;Tiêu đề;Loại;Ngày phát hành;Số lượng in;Ngày nhận\na.png;Tờ rơi A;tờ rơi;15/03/2022;1.000;30/3/2023\nb.png;Tờ rơi B;tờ rơi;31/02/2022;;\n');
    const r = await run(store, folder, manifest);
    expect(r.rows[0], JSON.stringify(r.rows[0])).toMatchObject({ status: 'imported' });
    const p = store.db.sqlite.prepare('SELECT release_date, year, print_run, copy_received_on FROM products WHERE id = ?').get(r.rows[0].productId);
    expect(p).toEqual({ release_date: '2022-03-15', year: 2022, print_run: 1000, copy_received_on: '2023-03-30' });
    expect(r.rows[1]).toMatchObject({ status: 'failed', problems: [expect.objectContaining({ field: 'releaseDate' })] });
  });

  it('finds files whose names are stored decomposed (NFD), whichever form the manifest uses', async () => {
    const folder = join(dataDir, 'mac');
    const dir = 'Sách cũ'.normalize('NFD');
    await mkdir(join(folder, dir), { recursive: true });
    await writeFile(join(folder, dir, 'Địa lý Cao Bằng.png'.normalize('NFD')), await makePng(30, 20, 21));
    await writeFile(join(folder, 'Thác Bản Giốc.png'.normalize('NFD')), await makePng(30, 20, 22));
    const manifest = join(dataDir, 'mac.csv');
    await writeFile(manifest, ['file,title,type', `Sách cũ/Địa lý Cao Bằng.png,Địa lý,photo`, `${'Thác Bản Giốc.png'.normalize('NFD')},Thác,photo`].join('\n'));
    const r = await run(store, folder, manifest);
    expect(r.rows.map((row) => row.status), JSON.stringify(r.rows)).toEqual(['imported', 'imported']);
    const name = store.db.sqlite.prepare('SELECT original_name FROM product_files WHERE product_id = ?').pluck();
    expect([name.get(r.rows[0].productId), name.get(r.rows[1].productId)]).toEqual(['Địa lý Cao Bằng.png', 'Thác Bản Giốc.png']);
  });

  it('finds files in both of two folders whose names differ only in form (a Mac copy merged beside the original)', async () => {
    const folder = join(dataDir, 'merged');
    await mkdir(join(folder, 'Ảnh'.normalize('NFC')), { recursive: true });
    await mkdir(join(folder, 'Ảnh'.normalize('NFD')), { recursive: true });
    await writeFile(join(folder, 'Ảnh'.normalize('NFC'), 'một.png'), await makePng(30, 20, 51));
    await writeFile(join(folder, 'Ảnh'.normalize('NFD'), 'hai.png'.normalize('NFD')), await makePng(30, 20, 52));
    const manifest = join(dataDir, 'merged.csv');
    await writeFile(manifest, ['file,title,type', 'Ảnh/một.png,Ảnh một,photo', 'Ảnh/hai.png,Ảnh hai,photo'].join('\n'));
    const r = await run(store, folder, manifest);
    expect(r.rows.map((row) => row.status), JSON.stringify(r.rows)).toEqual(['imported', 'imported']);
  });

  it('a folder of thousands of decomposed (NFD) names is read once, not once per row', async () => {
    // The old lookup read and normalised the whole folder again for every row: rows × entries
    // (4,000 of each took 23 s). Counted, not timed: the folder is listed once for all rows.
    const rows = 1500;
    const folder = join(dataDir, 'mac-many');
    await mkdir(folder, { recursive: true });
    const names = Array.from({ length: rows }, (_, i) => `Tờ rơi tuyên truyền Cao Bằng số ${i}.txt`);
    for (const [i, name] of names.entries()) await writeFile(join(folder, name.normalize('NFD')), `Tờ rơi số ${i}: Thác Bản Giốc, Pác Bó.\n`);
    // Other scans of the backlog, in the folder but not in this manifest.
    for (let i = 0; i < 3_000; i++) await writeFile(join(folder, `Ảnh tư liệu Hà Quảng ${i}.jpg`.normalize('NFD')), '');
    const manifest = join(dataDir, 'mac-many.csv');
    await writeFile(manifest, ['file,title,type', ...names.map((name, i) => `${name},Tờ rơi số ${i},leaflet`)].join('\n'));
    listed.length = 0;
    const r = await run(store, folder, manifest, true);
    expect(r.totals).toMatchObject({ rows, valid: rows, failed: 0 });
    expect(listed.filter((p) => p === folder)).toHaveLength(1);
  });

  it('refuses a symbolic link that leads outside the folder', async () => {
    const folder = join(dataDir, 'links');
    await mkdir(folder, { recursive: true });
    const outside = join(dataDir, 'secret.png');
    await writeFile(outside, await makePng(30, 20, 31));
    await symlink(outside, join(folder, 'link.png'));
    await writeFile(join(folder, 'inside.png'), await makePng(30, 20, 32));
    await symlink(join(folder, 'inside.png'), join(folder, 'link-inside.png'));
    const manifest = join(dataDir, 'links.csv');
    await writeFile(manifest, 'file,title,type\nlink.png,Ngoài,photo\nlink-inside.png,Trong,photo\n');
    for (const dryRun of [true, false]) {
      const r = await run(store, folder, manifest, dryRun);
      expect(r.rows[0].problems.map((p) => p.code)).toEqual(['FILE_OUTSIDE_FOLDER']);
      expect(r.rows[1].status).toBe(dryRun ? 'valid' : 'imported');
    }
  });
});

describe('import while the server runs', () => {
  it('the running server runs the jobs the import queued, with no upload to wake it', async () => {
    const t = await makeTestApp({ jobs: { workers: 1 } });
    let store: OpsStore | null = null;
    try {
      // An upload first: once its jobs are done, the runner is idle with an empty queue.
      const { body, headers } = multipartBody({ title: 'Tải lên trước', type: 'photo' }, [{ filename: 'a.png', data: await makePng(40, 30, 40) }]);
      expect((await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } })).statusCode).toBe(201);
      const waitDone = async (n: number) => {
        const deadline = Date.now() + 20_000;
        while ((t.app.jobQueue.counts().done ?? 0) < n && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
        return t.app.jobQueue.counts();
      };
      expect(await waitDone(2)).toMatchObject({ done: 2 });
      const folder = join(t.dataDir, 'in');
      await mkdir(folder, { recursive: true });
      await writeFile(join(folder, 'ảnh.png'), await makePng(40, 30, 41));
      await writeFile(join(t.dataDir, 'items.csv'), 'file,title,type\nảnh.png,Ảnh nhập khi máy chủ chạy,photo\n');
      store = await openStore(t.config);
      const r = await run(store, folder, join(t.dataDir, 'items.csv'));
      expect(r.totals.imported).toBe(1);
      expect(await waitDone(4)).toMatchObject({ done: 4 });
    } finally {
      store?.close();
      await t.close();
    }
  });
});

describe('two processes writing the catalogue', () => {
  it('a transaction that read before another connection committed still writes (waits for the lock instead of failing)', async () => {
    const dataDir = await makeDataDir();
    const a = openDatabase(join(dataDir, 'kho.sqlite'));
    const b = openDatabase(join(dataDir, 'kho.sqlite'), { migrate: false, busyTimeoutMs: 0 });
    try {
      a.sqlite.exec('CREATE TABLE t (n INTEGER)');
      let other = 'committed';
      // Like the ingest transaction: it reads first, then writes; meanwhile "the server" commits.
      const write = a.sqlite.transaction(() => {
        a.sqlite.prepare('SELECT count(*) FROM t').get();
        try {
          b.sqlite.prepare('INSERT INTO t VALUES (2)').run();
        } catch (e) {
          other = (e as { code?: string }).code ?? 'error';
        }
        a.sqlite.prepare('INSERT INTO t VALUES (1)').run();
      });
      expect(() => write()).not.toThrow();
      // The other connection waited for the lock (here: gave up at once, its timeout being 0).
      expect(other).toBe('SQLITE_BUSY');
      expect(a.sqlite.prepare('SELECT n FROM t').pluck().all()).toEqual([1]);
    } finally {
      b.close();
      a.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('import script killed half-way', () => {
  it('a re-run completes the import without duplicating anything', async () => {
    const dataDir = await makeDataDir();
    try {
      const folder = join(dataDir, 'in');
      await mkdir(folder);
      const N = 60;
      const lines = ['file,title,type,agency,year'];
      for (let i = 0; i < N; i++) {
        const name = `tờ rơi ${String(i).padStart(3, '0')}.png`;
        await writeFile(join(folder, name), await makePng(300 + i, 200, i));
        lines.push(`${name},Tờ rơi tuyên truyền số ${i},leaflet,so-vhttdl,2023`);
      }
      const manifest = join(dataDir, 'items.csv');
      await writeFile(manifest, lines.join('\n'));
      const dbFile = join(dataDir, 'data', 'kho.sqlite');
      seedAgencies(dbFile);
      const env = { ...process.env, DATA_DIR: join(dataDir, 'data'), LOG_LEVEL: 'silent' };
      const args = ['--import', 'tsx', join(ROOT, 'scripts/import.ts'), folder, '--manifest', manifest, '--concurrency', '1', '--report', join(dataDir, 'r1.json')];

      const count = () => {
        const db = openDatabase(dbFile, { migrate: false });
        try {
          return (db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
        } finally {
          db.close();
        }
      };
      const child = spawn(process.execPath, args, { env, cwd: ROOT, stdio: 'ignore' });
      const exited = new Promise<void>((res) => child.on('exit', () => res()));
      const deadline = Date.now() + 30_000;
      while (count() < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 15));
      child.kill('SIGKILL');
      await exited;
      const atKill = count();
      expect(atKill).toBeGreaterThanOrEqual(8);
      expect(atKill).toBeLessThan(N);

      const second = spawn(process.execPath, [...args.slice(0, -1), join(dataDir, 'r2.json'), '--quiet'], { env, cwd: ROOT, stdio: 'pipe' });
      let out = '';
      second.stdout.on('data', (d) => (out += d));
      const code = await new Promise<number | null>((res) => second.on('exit', res));
      expect(code).toBe(0);
      expect(out).toContain(`imported: ${N - atKill}, skipped: ${atKill}, failed: 0`);
      const report = JSON.parse(await readFile(join(dataDir, 'r2.json'), 'utf8')) as ImportReport;
      expect(report.totals.imported + report.totals.skipped).toBe(N);
      expect(await readFile(join(dataDir, 'r2.txt'), 'utf8')).toContain('imported:');

      const db = openDatabase(dbFile, { migrate: false });
      const products = (db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
      const dupes = db.sqlite.prepare('SELECT sha256, count(*) AS n FROM product_files GROUP BY sha256 HAVING n > 1').all();
      const titles = (db.sqlite.prepare('SELECT count(DISTINCT title) AS n FROM products').get() as { n: number }).n;
      db.close();
      expect(products).toBe(N);
      expect(titles).toBe(N);
      expect(dupes).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('import: messages, line numbers and dry runs that match the import', () => {
  let dataDir: string;
  let store: OpsStore;
  beforeAll(async () => {
    dataDir = await makeDataDir();
    store = await openStore(testConfig(dataDir, { jobs: { workers: 0 } }));
  });
  afterAll(async () => {
    store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a DD/MM/YYYY date that does not exist is reported as such, not as a date written wrongly', async () => {
    const folder = join(dataDir, 'ngay');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'a.png'), await makePng(30, 20, 61));
    const manifest = join(dataDir, 'ngay.csv');
    await writeFile(manifest, 'Tệp;Tiêu đề;Loại;Ngày phát hành;Ngày nhận\na.png;Tờ rơi ngày không có;tờ rơi;31/02/2024;hôm qua\n');
    const r = await run(store, folder, manifest, true);
    expect(r.rows[0].status).toBe('failed');
    expect(r.rows[0].problems).toEqual([
      { code: 'VALIDATION_FAILED', field: 'releaseDate', message: 'releaseDate "31/02/2024" does not exist in the calendar (check the day and the month)' },
      { code: 'VALIDATION_FAILED', field: 'copyReceivedOn', message: 'copyReceivedOn "hôm qua" is not a date (YYYY-MM-DD or DD/MM/YYYY)' },
    ]);
    expect(formatImportReport(r)).not.toContain('must be a date written YYYY-MM-DD');
  });

  it('a type, access or state the manifest does not know is named as written, with the words it takes, and the rest of the row is still checked', async () => {
    const folder = join(dataDir, 'loai');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'b.png'), await makePng(30, 20, 62));
    const manifest = join(dataDir, 'loai.csv');
    await writeFile(manifest, 'Tệp;Tiêu đề;Loại;Cơ quan;Quyền truy cập;Trạng thái\nb.png;Tạp chí Văn hoá Cao Bằng;tạp chí;so-khong-co;mật;lưu trữ\n');
    const r = await run(store, folder, manifest, true);
    expect(r.rows[0].status).toBe('failed');
    const byField = Object.fromEntries(r.rows[0].problems.map((p) => [p.field, p.message]));
    expect(byField.type).toBe('type "tạp chí" is not a product type: write one of book, leaflet, flyer, map, video, audio, photo, document, other, or in Vietnamese sách, tờ rơi, tờ gấp, bản đồ, phim, video, âm thanh, ghi âm, ảnh, hình ảnh, tài liệu, văn bản, khác');
    expect(byField.access).toBe('access "mật" is not an access level: write public or internal, or in Vietnamese công khai, nội bộ');
    expect(byField.state).toBe('state "lưu trữ" is not a state an import sets: write submitted, in_review, accepted or published, or in Vietnamese mới nộp, đã tiếp nhận, đã công bố');
    expect(byField.agency).toContain('so-khong-co');
    // Every word the messages offer is one the manifest takes.
    for (const [words, aliases] of [[TYPE_WORDS, TYPE_ALIASES], [ACCESS_WORDS, ACCESS_ALIASES], [STATE_WORDS, STATE_ALIASES]] as const) {
      for (const w of words) expect(aliases[foldKey(w)], w).toBeDefined();
    }
  });

  it('problems name the line a row starts on (CRLF line ends, empty lines, a cell with line breaks) or the sheet row', async () => {
    const csv = 'Tệp,Tiêu đề,Loại\r\n\r\na.pdf,"Tờ gấp\r\nhai dòng",tờ gấp\r\nb.pdf,Bản đồ,bản đồ\r\n';
    expect(parseManifest(Buffer.from(csv)).rows.map((row) => row.line)).toEqual([3, 5]);
    const broken = parseManifest(Buffer.from('file,title,type\r\na.pdf,Tờ gấp,book\r\nb.pdf,"Bản đồ,book\r\n'));
    expect(broken.problems).toEqual([expect.objectContaining({ code: 'CSV_SYNTAX', line: 3 })]);
    const latin1 = parseManifest(Buffer.from('file,title,type\nx.pdf,Nghi quyet,book\ny.pdf,Café crème,book\n', 'latin1'));
    expect(latin1.problems).toEqual([expect.objectContaining({ code: 'NOT_UTF8', line: 3 })]);
    // A workbook: the header below a title row is on row 3.
    const book = parseManifest(makeXlsxTable([['Danh mục năm 2024'], [], ['Tệp', 'Tiêu đề', 'Màu sắc']]));
    expect(book.problems.map((p) => [p.code, p.line])).toEqual([['UNKNOWN_COLUMN', 3], ['MISSING_COLUMN', 3]]);
    // Not a table at all: about the whole file, never "line 0".
    const docx = parseManifest(Buffer.from(zipSync({ 'word/document.xml': strToU8('<w:document/>') })));
    expect(docx.problems[0]).toMatchObject({ code: 'NOT_A_TABLE', line: null });
    const folder = join(dataDir, 'khong-bang');
    await mkdir(folder, { recursive: true });
    for (const [name, bytes] of [['a.docx', Buffer.from(zipSync({ 'word/document.xml': strToU8('<w:document/>') }))], ['b.csv', Buffer.from('file,title,type\r\na.pdf,"x,book\r\n')]] as const) {
      await writeFile(join(dataDir, name), bytes);
      const text = formatImportReport(await run(store, folder, join(dataDir, name), true));
      expect(text).not.toContain('line 0');
    }
    const docxText = formatImportReport(await run(store, folder, join(dataDir, 'a.docx'), true));
    expect(docxText).toContain('  file: [NOT_A_TABLE]');
    // A file that could not be read is not said to have been read in some encoding.
    expect(docxText).not.toContain('not UTF-8: read as');
    await writeFile(join(dataDir, 'latin1.csv'), Buffer.from('file,title,type\nx.pdf,Café crème,book\n', 'latin1'));
    const latinText = formatImportReport(await run(store, folder, join(dataDir, 'latin1.csv'), true));
    expect(latinText).toContain('line 2: [NOT_UTF8]');
    expect(latinText).not.toContain('not UTF-8: read as');
  });

  it('a workbook manifest is announced as a workbook, not as a CSV that is not UTF-8', async () => {
    const folder = join(dataDir, 'so');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'a.png'), await makePng(30, 20, 62));
    const book = join(dataDir, 'so.xlsx');
    await writeFile(book, makeXlsxTable([['Tệp', 'Tiêu đề', 'Loại'], ['a.png', 'Ảnh hội nghị tổng kết', 'ảnh']]));
    const text = formatImportReport(await run(store, folder, book, true));
    expect(text).toContain('The manifest is a workbook (XLSX): its first sheet was read');
    expect(text).not.toContain('not UTF-8');
  });

  it('a dry run gives every row the code the import gives it, whatever the concurrency', async () => {
    const folder = join(dataDir, 'trung');
    await mkdir(folder, { recursive: true });
    for (const [i, name] of ['a.png', 'b.png', 'c.png', 'd.png'].entries()) await writeFile(join(folder, name), await makePng(40, 20, 70 + i));
    const first = join(dataDir, 'truoc.csv');
    await writeFile(first, 'file,title,type\nc.png,Ảnh đã nhập từ trước,photo\n');
    expect((await run(store, folder, first)).rows[0].status).toBe('imported');
    const manifest = join(dataDir, 'trung.csv');
    await writeFile(
      manifest,
      [
        'file,title,type',
        'a.png,Ảnh lễ hội Pác Bó,photo',
        'a.png,Ảnh lễ hội Pác Bó (lặp lại),photo',
        '"b.png;a.png",Hai ảnh lễ hội,photo',
        'c.png,Ảnh đã nhập (lần hai),photo',
        '"d.png;c.png",Ảnh mới kèm ảnh cũ,photo',
        'c.png,Ảnh đã nhập (lần ba),photo',
      ].join('\n'),
    );
    const codes = (r: ImportReport) => r.rows.map((row) => [row.line, row.status, row.problems.map((p) => p.code).join()]);
    const expected = [
      [2, 'valid', ''],
      [3, 'skipped', 'DUPLICATE_IN_MANIFEST'],
      [4, 'skipped', 'DUPLICATE_IN_MANIFEST'],
      [5, 'skipped', 'ALREADY_IMPORTED'],
      [6, 'valid', ''],
      [7, 'skipped', 'ALREADY_IMPORTED'],
    ];
    const dry = async (concurrency: number) =>
      codes(await runImport({ folder, manifestPath: manifest, dryRun: true, concurrency, maxFileBytes: 1024 * 1024, principal: systemPrincipal() }, { sqlite: store.db.sqlite, ingest: store.ingest, tmpDir: store.paths.tmpDir }));
    expect(await dry(1)).toEqual(expected);
    expect(await dry(4)).toEqual(expected);
    // One row at a time: each row has committed before the next one is checked.
    const real = await runImport({ folder, manifestPath: manifest, concurrency: 1, maxFileBytes: 1024 * 1024, principal: systemPrincipal() }, { sqlite: store.db.sqlite, ingest: store.ingest, tmpDir: store.paths.tmpDir });
    expect(codes(real)).toEqual(expected.map(([line, status, code]) => [line, status === 'valid' ? 'imported' : status, code]));
  });

  it('a dry run on a data dir that does not exist yet creates nothing, and still checks agency codes', async () => {
    const folder = join(dataDir, 'moi');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'a.png'), await makePng(30, 20, 81));
    const manifest = join(dataDir, 'moi.csv');
    await writeFile(manifest, 'Tệp,Tiêu đề,Loại,Cơ quan\na.png,Ảnh Thác Bản Giốc,ảnh,\na.png,Ảnh Thác Bản Giốc (cơ quan lạ),ảnh,co-quan-khong-co\n');
    const fresh = join(dataDir, 'kho mới');
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/import.ts'), folder, '--manifest', manifest, '--dry-run', '--quiet', '--data-dir', fresh, '--report', join(dataDir, 'moi.json')], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: '', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((res) => child.on('exit', res));
    expect(out).toContain('rows: 2, valid: 1, would skip: 0, with problems: 1');
    expect(out).toContain('co-quan-khong-co');
    expect(code).toBe(1);
    expect(existsSync(fresh)).toBe(false);
  });
});
