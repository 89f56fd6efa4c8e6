/**
 * The bulk-import manifest: a UTF-8 CSV, or a workbook (the first sheet of an XLSX, XLS or ODS file),
 * whose header names (Vietnamese or English, with or without diacritics, any case) map onto record
 * fields. One row = one product; its `file` cell names one or more files (relative to the import
 * folder) separated by `;` or `|`.
 * See docs/operations.md and docs/import-template.csv.
 */
import { parse } from 'csv-parse/sync';
import { decodeText, isLegacyVietnameseEncoding } from '../ingest/adapters/text-encoding.ts';
import { readZipEntries } from '../ingest/adapters/office.ts';
import { odsRows, xlsxRows, xlsxWanted } from '../ingest/extractors/office-markup.ts';
import { xlsRows } from '../ingest/extractors/xls.ts';

/** Canonical manifest columns and the raw form-field name each one feeds (as an upload would send it). */
export const MANIFEST_COLUMNS = {
  file: { field: null, headers: ['file', 'files', 'tep', 'tep tin', 'ten tep', 'duong dan'] },
  title: { field: 'title', headers: ['title', 'tieu de', 'ten', 'ten san pham'] },
  altTitle: { field: 'altTitle', headers: ['alt title', 'alternative title', 'ten khac', 'tieu de khac'] },
  type: { field: 'type', headers: ['type', 'loai', 'loai san pham'] },
  description: { field: 'description', headers: ['description', 'mo ta', 'tom tat'] },
  agency: { field: 'agency', headers: ['agency', 'co quan', 'co quan ban hanh', 'don vi'] },
  coIssuers: { field: 'coIssuers', headers: ['co issuers', 'co quan phoi hop', 'dong ban hanh'] },
  releaseDate: { field: 'releaseDate', headers: ['release date', 'ngay phat hanh', 'ngay ban hanh'] },
  year: { field: 'year', headers: ['year', 'nam', 'nam phat hanh'] },
  publisher: { field: 'publisher', headers: ['publisher', 'nha xuat ban', 'don vi xuat ban'] },
  identifier: { field: 'identifier', headers: ['identifier', 'ma so', 'ky hieu'] },
  isbn: { field: 'isbn', headers: ['isbn'] },
  printRun: { field: 'printRun', headers: ['print run', 'so luong in', 'so ban in'] },
  languages: { field: 'languages', headers: ['language', 'languages', 'ngon ngu'] },
  subjects: { field: 'subjects', headers: ['subjects', 'subject', 'keywords', 'chu de', 'tu khoa'] },
  planTask: { field: 'planTask', headers: ['plan task', 'nhiem vu', 'nhiem vu ke hoach'] },
  copyReceivedOn: { field: 'copyReceivedOn', headers: ['copy received on', 'ngay nhan', 'ngay nhan ban luu'] },
  copyCondition: { field: 'copyCondition', headers: ['copy condition', 'tinh trang', 'tinh trang ban luu'] },
  copyShelf: { field: 'copyShelf', headers: ['copy shelf', 'vi tri', 'vi tri luu tru', 'ke'] },
  access: { field: 'access', headers: ['access', 'quyen truy cap', 'muc do truy cap'] },
  state: { field: 'state', headers: ['state', 'trang thai'] },
} as const;

export type ManifestColumn = keyof typeof MANIFEST_COLUMNS;

/** Vietnamese labels accepted in the `type` column, mapped onto PRODUCT_TYPES. */
export const TYPE_ALIASES: Record<string, string> = {
  sach: 'book', 'to roi': 'leaflet', 'to gap': 'flyer', 'ban do': 'map', phim: 'video', video: 'video', 'video clip': 'video',
  'phim video': 'video', 'am thanh': 'audio', 'ghi am': 'audio', anh: 'photo', 'hinh anh': 'photo', 'tai lieu': 'document',
  'van ban': 'document', khac: 'other',
};

/** The Vietnamese words of the `type`, `access` and `state` columns as a person writes them (for messages; each folds to an alias key). */
export const TYPE_WORDS = ['sách', 'tờ rơi', 'tờ gấp', 'bản đồ', 'phim', 'video', 'âm thanh', 'ghi âm', 'ảnh', 'hình ảnh', 'tài liệu', 'văn bản', 'khác'];
export const ACCESS_WORDS = ['công khai', 'nội bộ'];
export const STATE_WORDS = ['mới nộp', 'đã tiếp nhận', 'đã công bố'];

/** Vietnamese values accepted in the `access` and `state` columns. */
export const ACCESS_ALIASES: Record<string, string> = { 'cong khai': 'public', 'noi bo': 'internal' };
export const STATE_ALIASES: Record<string, string> = { 'da cong bo': 'published', 'cong bo': 'published', 'moi nop': 'submitted', 'da tiep nhan': 'accepted' };

/** Lower-case, strip diacritics (đ → d), collapse separators: "Tiêu đề" → "tieu de", "release_date" → "release date". */
export function foldKey(s: string): string {
  return s
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/[\s_\-./]+/g, ' ')
    .trim();
}

const HEADER_INDEX = new Map<string, ManifestColumn>();
for (const [col, def] of Object.entries(MANIFEST_COLUMNS) as Array<[ManifestColumn, { headers: readonly string[] }]>) {
  for (const h of def.headers) HEADER_INDEX.set(h, col);
  HEADER_INDEX.set(foldKey(col.replace(/([A-Z])/g, ' $1')), col);
}

export interface ManifestRow {
  /** 1-based line number of the row in the CSV (header is line 1), or its row number in a workbook. */
  line: number;
  values: Partial<Record<ManifestColumn, string>>;
  /** File paths as written in the manifest (relative to the folder). */
  files: string[];
}

export interface ManifestProblem {
  /** 1-based line of the CSV or row of the workbook the problem is on; null when it is about the whole file (not a table at all). */
  line: number | null;
  code: string;
  message: string;
}

export interface Manifest {
  columns: ManifestColumn[];
  rows: ManifestRow[];
  /** Problems with the manifest as a whole (encoding, headers). Rows are not imported when any exists. */
  problems: ManifestProblem[];
  /** How its bytes were read: utf-8, the legacy Vietnamese code page Excel's plain "CSV" wrote (windows-1258, tcvn, viscii), or xlsx, xls, ods. */
  encoding: string;
}

function detectDelimiter(headerLine: string): string {
  const counts = [',', ';', '\t'].map((d) => [d, headerLine.split(d).length - 1] as const);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0][1] > 0 ? counts[0][0] : ',';
}

/** Parse and check a manifest's bytes. Never throws for bad input: problems are returned. */
export function parseManifest(bytes: Buffer): Manifest {
  const problems: ManifestProblem[] = [];
  // A workbook (XLSX: a ZIP; XLS: an OLE compound file): its first sheet's rows.
  const zip = bytes.length >= 4 && bytes.readUInt32LE(0) === 0x04034b50;
  const cfb = bytes.length >= 8 && bytes.readUInt32LE(0) === 0xe011cfd0 && bytes.readUInt32LE(4) === 0xe11ab1a1;
  if (zip || cfb) {
    let rows: Array<{ row: number; cells: string[] }>;
    let format = zip ? 'zip' : 'xls';
    try {
      if (zip) {
        const parts = readZipEntries(bytes, (n) => xlsxWanted(n) || n === 'content.xml' || n === 'mimetype');
        const mimetype = new TextDecoder().decode(parts.get('mimetype') ?? new Uint8Array()).trim();
        if (parts.has('xl/workbook.xml')) {
          rows = xlsxRows(parts);
          format = 'xlsx';
        } else if (mimetype === 'application/vnd.oasis.opendocument.spreadsheet' && parts.has('content.xml')) {
          rows = odsRows(parts.get('content.xml')!);
          format = 'ods';
        } else throw new Error('it is a ZIP archive but not a workbook (XLSX or ODS)');
      } else rows = xlsRows(bytes);
    } catch (e) {
      return { columns: [], rows: [], encoding: format, problems: [{ line: null, code: 'NOT_A_TABLE', message: `The manifest could not be read as a workbook (${(e as Error).message}): save it as XLSX or "CSV UTF-8"` }] };
    }
    const records = rows.map((r) => ({ record: r.cells.map((v) => v.trim()), info: { lines: r.row } }));
    return manifestOf(records, format, problems, true);
  }
  let text: string;
  let encoding = 'utf-8';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Excel's plain "CSV" on a Vietnamese Windows writes the ANSI code page (Windows-1258); older
    // tools TCVN3 or VISCII. Read in one of them when the text is clearly Vietnamese in it.
    const d = decodeText(bytes);
    if (!isLegacyVietnameseEncoding(d.encoding) || d.confidence < 0.5) {
      return { columns: [], rows: [], encoding: d.encoding, problems: [{ line: firstBadUtf8Line(bytes), code: 'NOT_UTF8', message: 'The manifest is neither UTF-8 nor clearly Vietnamese in a legacy code page (Windows-1258, TCVN3, VISCII): save it as "CSV UTF-8" and try again' }] };
    }
    text = d.text;
    encoding = d.encoding;
  }
  // One line ending (Windows' CRLF, old Macs' CR) so that line numbers count lines as an editor does.
  text = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const firstLine = text.split('\n', 1)[0] ?? '';
  let parsed: Array<{ record: string[]; info: { bytes: number } }>;
  try {
    parsed = parse(text, { delimiter: detectDelimiter(firstLine), relax_column_count: true, skip_empty_lines: true, info: true, trim: true }) as unknown as typeof parsed;
  } catch (e) {
    const at = (e as { lines?: unknown }).lines;
    return { columns: [], rows: [], encoding, problems: [{ line: typeof at === 'number' && at > 0 ? at : null, code: 'CSV_SYNTAX', message: `The manifest is not valid CSV: ${(e as Error).message}` }] };
  }
  // csv-parse counts the line a record ends on; a row's line is the one it starts on (a quoted cell
  // may hold line breaks). `info.bytes` is the UTF-8 offset after each record.
  const utf8 = Buffer.from(text, 'utf8');
  let offset = 0;
  let line = 1;
  const records = parsed.map(({ record, info }) => {
    // Skip the line break that ended the previous record and any empty lines before this one.
    while (offset < info.bytes && (utf8[offset] === 0x0a || utf8[offset] === 0x20 || utf8[offset] === 0x09)) {
      if (utf8[offset] === 0x0a) line++;
      offset++;
    }
    const start = line;
    for (; offset < info.bytes; offset++) if (utf8[offset] === 0x0a) line++;
    return { record, info: { lines: start } };
  });
  return manifestOf(records, encoding, problems, false);
}

/** The 1-based line of the first byte sequence that is not UTF-8 (null when all of it is). */
function firstBadUtf8Line(bytes: Buffer): number | null {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== 0x0a) continue;
    try {
      decoder.decode(bytes.subarray(start, i));
    } catch {
      return line;
    }
    line++;
    start = i + 1;
  }
  return null;
}

/** Excel's day number of a date (1900 system, days since 1899-12-30 from March 1900 on; a time of day as its fraction) → `YYYY-MM-DD`. */
function excelDate(v: string): string {
  const n = Math.floor(Number(v));
  if (!/^\d{5}(\.\d+)?$/.test(v) || n < 10_000 || n > 80_000) return v;
  return new Date(Date.UTC(1899, 11, 30) + n * 86_400_000).toISOString().slice(0, 10);
}

/** Header and rows of a manifest's table (CSV records or a workbook's rows, with their line or row numbers). */
function manifestOf(records: Array<{ record: string[]; info: { lines: number } }>, encoding: string, problems: ManifestProblem[], workbook: boolean): Manifest {
  // A workbook may start with empty rows or a title row above the header: the header is the first row naming a known column.
  if (workbook) {
    const at = records.findIndex((r) => r.record.some((h) => HEADER_INDEX.has(foldKey(h.normalize('NFC')))));
    records = at > 0 ? records.slice(at) : records;
  }
  if (records.length === 0) return { columns: [], rows: [], encoding, problems: [{ line: 1, code: 'EMPTY_MANIFEST', message: 'The manifest has no header row' }] };

  const header = records[0].record;
  const headerLine = records[0].info.lines;
  const columns: Array<ManifestColumn | null> = header.map((h) => {
    const col = HEADER_INDEX.get(foldKey(h.normalize('NFC')));
    if (!col && h.trim() !== '') problems.push({ line: headerLine, code: 'UNKNOWN_COLUMN', message: `Unknown column "${h}" (see docs/import-template.csv for the accepted names)` });
    return col ?? null;
  });
  const seen = new Set<ManifestColumn>();
  for (const c of columns) {
    if (c === null) continue;
    if (seen.has(c)) problems.push({ line: headerLine, code: 'DUPLICATE_COLUMN', message: `Column "${c}" appears twice` });
    seen.add(c);
  }
  for (const required of ['file', 'title', 'type'] as const) {
    if (!seen.has(required)) problems.push({ line: headerLine, code: 'MISSING_COLUMN', message: `Required column "${required}" is missing` });
  }

  const rows: ManifestRow[] = [];
  for (const { record, info } of records.slice(1)) {
    if (record.every((v) => v.trim() === '')) continue;
    const values: ManifestRow['values'] = {};
    record.forEach((v, i) => {
      const col = columns[i];
      if (!col || v.trim() === '') return;
      const value = v.normalize('NFC').trim();
      // A date cell of a workbook holds Excel's day number.
      values[col] = workbook && (col === 'releaseDate' || col === 'copyReceivedOn') ? excelDate(value) : value;
    });
    const files = (values.file ?? '').split(/[;|]/).map((s) => s.trim()).filter(Boolean);
    rows.push({ line: info.lines, values, files });
  }
  return { columns: [...seen], rows, problems, encoding };
}

/** The raw form fields of a row, as an upload would send them (aliases resolved to codes). */
export function rowToRawFields(row: ManifestRow): Record<string, string[]> {
  const raw: Record<string, string[]> = {};
  for (const [col, value] of Object.entries(row.values) as Array<[ManifestColumn, string]>) {
    const field = MANIFEST_COLUMNS[col].field;
    if (field === null || value === undefined) continue;
    let v = value;
    if (col === 'type') v = TYPE_ALIASES[foldKey(v)] ?? v;
    if (col === 'access') v = ACCESS_ALIASES[foldKey(v)] ?? v;
    if (col === 'state') v = STATE_ALIASES[foldKey(v)] ?? v;
    // The catalogue parser takes YYYY-MM-DD and whole numbers only; the manifest also takes
    // DD/MM/YYYY dates and print runs written with thousands separators (`1.000`), as documented.
    if (col === 'releaseDate' || col === 'copyReceivedOn') v = isoDate(v) ?? v;
    if (col === 'printRun' && /^\d{1,3}([.\s]\d{3})+$/.test(v)) v = v.replace(/[.\s]/g, '');
    if (col === 'subjects' || col === 'languages' || col === 'coIssuers') {
      // Lists in a cell: `;` or `,` separated.
      raw[field] = v.split(/[;,]/).map((s) => s.trim()).filter(Boolean);
      continue;
    }
    raw[field] = [v];
  }
  return raw;
}

/** `DD/MM/YYYY`, `D.M.YYYY` or `YYYY-M-D` → `YYYY-MM-DD` (not checked for validity); null for anything else. */
export function isoDate(s: string): string | null {
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
  if (m) return `${m[1]}-${m[2].padStart(2, '0')}-${m[3].padStart(2, '0')}`;
  m = /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$/.exec(s);
  if (m) return `${m[3]}-${m[2].padStart(2, '0')}-${m[1].padStart(2, '0')}`;
  return null;
}
