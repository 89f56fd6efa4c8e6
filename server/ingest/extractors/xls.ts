/**
 * Excel 97–2003 workbooks (.xls, [MS-XLS] BIFF8; the "Book" stream of Excel 5/95, BIFF5, too): the
 * worksheets in the workbook's order, each as text like XLSX sheets — one line per row, cells in
 * column order separated by tabs (strings, numbers as stored, booleans, formulas by their cached
 * value). Charts and macro sheets have no cells and are left out.
 */
import { compoundStreams } from '../adapters/office.ts';
import { decodeBytes } from '../adapters/text-encoding.ts';
import { MAX_TABLE_COLUMNS } from './office-markup.ts';
import { PermanentExtractError } from './types.ts';

/** Record types read here ([MS-XLS] 2.3). */
const R = {
  bof: 0x0809,
  eof: 0x000a,
  filePass: 0x002f,
  codePage: 0x0042,
  boundSheet: 0x0085,
  sst: 0x00fc,
  continue: 0x003c,
  labelSst: 0x00fd,
  label: 0x0204,
  rString: 0x00d6,
  number: 0x0203,
  rk: 0x027e,
  mulRk: 0x00bd,
  formula: 0x0006,
  string: 0x0207,
  boolErr: 0x0205,
} as const;

/** Sheets past this many cells are cut (as XLSX and ODS sheets are). */
const MAX_SHEET_CELLS = 1_000_000;
/** Shared strings past this many are not read (a hostile count cannot allocate without bound). */
const MAX_STRINGS = 2_000_000;

interface Rec {
  type: number;
  /** The record's data, then the data of the CONTINUE records that follow it. */
  parts: Buffer[];
  /** Offset of the record's header in the stream. */
  at: number;
}

/** The records of a BIFF stream in [from, to), each record's CONTINUE records joined to it; stops at a damaged length. */
function* records(s: Buffer, from: number, end = s.length): Generator<Rec> {
  // A sheet list can name offsets past the stream.
  const to = Math.min(end, s.length);
  let at = from;
  let cur: Rec | null = null;
  while (at + 4 <= to) {
    const type = s.readUInt16LE(at);
    const len = s.readUInt16LE(at + 2);
    if (at + 4 + len > to) break;
    const data = s.subarray(at + 4, at + 4 + len);
    if (type === R.continue && cur !== null) cur.parts.push(data);
    else {
      if (cur !== null) yield cur;
      cur = { type, parts: [data], at };
    }
    at += 4 + len;
  }
  if (cur !== null) yield cur;
}

/**
 * Reads a record's data across its CONTINUE parts. A string's characters that run on into the next
 * part start it with a fresh option byte (whether that part's characters are one or two bytes each);
 * every other field simply continues.
 */
class Reader {
  private part = 0;
  private pos = 0;
  constructor(private readonly parts: Buffer[]) {}

  private ensure(): boolean {
    while (this.part < this.parts.length && this.pos >= this.parts[this.part].length) {
      this.part++;
      this.pos = 0;
    }
    return this.part < this.parts.length;
  }
  get done(): boolean {
    return !this.ensure();
  }
  u8(): number {
    if (!this.ensure()) throw new RangeError('past the record');
    return this.parts[this.part][this.pos++];
  }
  u16(): number {
    return this.u8() | (this.u8() << 8);
  }
  u32(): number {
    return (this.u16() | (this.u16() << 16)) >>> 0;
  }
  skip(n: number): void {
    let left = n;
    while (left > 0) {
      if (!this.ensure()) throw new RangeError('past the record');
      const take = Math.min(left, this.parts[this.part].length - this.pos);
      this.pos += take;
      left -= take;
    }
  }
  /** `cch` characters, one byte each (Latin-1) or UTF-16LE per `high`, continuing across parts. */
  chars(cch: number, high: boolean): string {
    let out = '';
    let left = cch;
    let wide = high;
    while (left > 0) {
      let buf = this.parts[this.part];
      if (buf === undefined) throw new RangeError('past the record');
      if (this.pos >= buf.length) {
        // The characters run on into the next part, which starts with their option byte.
        this.part++;
        this.pos = 0;
        buf = this.parts[this.part];
        if (buf === undefined || buf.length === 0) throw new RangeError('past the record');
        wide = (buf[this.pos++] & 1) === 1;
      }
      const avail = buf.length - this.pos;
      const n = Math.min(left, wide ? avail >> 1 : avail);
      if (n === 0) throw new RangeError('a character split across parts');
      const end = this.pos + (wide ? n * 2 : n);
      out += buf.toString(wide ? 'utf16le' : 'latin1', this.pos, end);
      this.pos = end;
      left -= n;
    }
    return out;
  }
}

/** A BIFF8 XLUnicodeRichExtendedString (shared strings) or XLUnicodeString (LABEL, STRING: no runs, no extension). */
function unicodeString(r: Reader, rich: boolean): string {
  const cch = r.u16();
  const flags = r.u8();
  const runs = rich && (flags & 0x08) !== 0 ? r.u16() : 0;
  const ext = rich && (flags & 0x04) !== 0 ? r.u32() : 0;
  const s = r.chars(cch, (flags & 1) === 1);
  if (runs > 0) r.skip(runs * 4);
  if (ext > 0) r.skip(ext);
  return s;
}

/** An RK number ([MS-XLS] 2.5.217): a 30-bit integer or the top of a double, maybe divided by 100. */
function rkValue(rk: number): number {
  let v: number;
  if (rk & 2) v = rk >> 2;
  else {
    const b = Buffer.alloc(8);
    b.writeUInt32LE((rk & 0xfffffffc) >>> 0, 4);
    v = b.readDoubleLE(0);
  }
  return rk & 1 ? v / 100 : v;
}

const num = (v: number): string => (Number.isFinite(v) ? String(Math.round(v * 1e10) / 1e10) : '');

/** Windows code page number → an encoding name iconv-lite knows (BIFF5 byte strings). */
const encodingOf = (cp: number): string | null => (cp === 1200 ? null : cp === 65001 ? 'utf8' : cp === 367 ? 'ascii' : cp === 10000 ? 'macintosh' : `windows-${cp}`);

/** Cells of one sheet: row → column → value (0-based), tabs and line breaks in values as spaces. */
type Cells = Map<number, Map<number, string>>;

/**
 * The worksheets of a workbook, in order, each with its name and text. OFFICE_MALFORMED when the
 * file holds no workbook stream, OFFICE_ENCRYPTED when the workbook is password-protected.
 */
export function xlsSheets(file: Buffer): Array<{ name: string; text: string }> {
  return readWorkbook(file).map(({ name, cells: read }) => {
    const cells = read();
    const lines: string[] = [];
    for (const row of [...cells.keys()].sort((a, b) => a - b)) {
      const m = cells.get(row)!;
      lines.push([...m.keys()].sort((a, b) => a - b).map((c) => m.get(c)!).join('\t'));
    }
    return { name, text: lines.join('\n').normalize('NFC') };
  });
}

/**
 * The rows of a workbook's first worksheet as cells in column order (an empty string where a row has
 * no cell), with their 1-based row numbers; empty rows left out. For reading tables (import manifests).
 */
export function xlsRows(file: Buffer): Array<{ row: number; cells: string[] }> {
  const first = readWorkbook(file)[0];
  if (first === undefined) return [];
  const cells = first.cells();
  return [...cells.keys()].sort((a, b) => a - b).map((row) => {
    const m = cells.get(row)!;
    let last = 0;
    for (const c of m.keys()) if (c < MAX_TABLE_COLUMNS) last = Math.max(last, c);
    const out = new Array<string>(last + 1).fill('');
    for (const [c, v] of m) if (c < MAX_TABLE_COLUMNS) out[c] = v.normalize('NFC');
    return { row: row + 1, cells: out };
  });
}

/** The worksheets of a workbook with their names and (read when asked) cells. */
function readWorkbook(file: Buffer): Array<{ name: string; cells: () => Cells }> {
  const streams = compoundStreams(file, ['Workbook', 'Book']);
  const s = streams.get('Workbook') ?? streams.get('Book');
  if (s === undefined) throw new PermanentExtractError('OFFICE_MALFORMED', 'The workbook could not be read: no Workbook stream');
  // BIFF8 (Excel 97 and later) stores Unicode strings; BIFF5/7 byte strings in the workbook's code page.
  let biff8 = true;
  let codePage: string | null = 'windows-1252';
  const shared: string[] = [];
  const sheets: Array<{ name: string; offset: number }> = [];
  for (const rec of records(s, 0)) {
    const d = rec.parts[0];
    if (rec.type === R.bof && rec.at === 0 && d.length >= 2) biff8 = d.readUInt16LE(0) === 0x0600;
    else if (rec.type === R.filePass) throw new PermanentExtractError('OFFICE_ENCRYPTED', 'The workbook is password-protected; its text cannot be read');
    else if (rec.type === R.codePage && d.length >= 2) codePage = encodingOf(d.readUInt16LE(0));
    else if (rec.type === R.boundSheet && d.length >= 8) {
      // Worksheets only (type 0; 2 is a chart, 6 a VBA module; 1 a macro sheet).
      if (d[5] !== 0) continue;
      const cch = d[6];
      const name = biff8
        ? d.subarray(8).length >= cch * ((d[7] & 1) + 1)
          ? (d[7] & 1) === 1
            ? d.toString('utf16le', 8, 8 + cch * 2)
            : d.toString('latin1', 8, 8 + cch)
          : ''
        : decodeBytes(d.subarray(7, 7 + cch), codePage ?? 'latin1');
      sheets.push({ name, offset: d.readUInt32LE(0) });
    } else if (rec.type === R.sst && biff8) {
      const r = new Reader(rec.parts);
      try {
        r.skip(4);
        const unique = Math.min(r.u32(), MAX_STRINGS);
        for (let k = 0; k < unique && !r.done; k++) shared.push(unicodeString(r, true));
      } catch {
        // A damaged table: the strings read so far are kept.
      }
    } else if (rec.type === R.eof) break;
  }
  // Each worksheet's records run from its BOF to the next sheet's (the substreams follow one another);
  // a sheet named twice at one offset is read once, so a hostile list repeating one entry cannot make
  // the same records be read again and again.
  const starts = [...new Set(sheets.map((sh) => sh.offset))].sort((a, b) => a - b);
  const ends = new Map(starts.map((o, i) => [o, starts[i + 1] ?? s.length]));
  const seen = new Set<number>();
  const out: Array<{ name: string; cells: () => Cells }> = [];
  for (const { name, offset } of sheets) {
    if (seen.has(offset)) continue;
    seen.add(offset);
    let memo: Cells | null = null;
    out.push({ name: name.normalize('NFC'), cells: () => (memo ??= sheetCells(s, offset, ends.get(offset)!, biff8, codePage, shared)) });
  }
  return out;
}

/** The cells of the worksheet whose BOF record is at `offset`. */
function sheetCells(s: Buffer, offset: number, end: number, biff8: boolean, codePage: string | null, shared: string[]): Cells {
  const rows: Cells = new Map();
  if (offset + 4 > s.length || s.readUInt16LE(offset) !== R.bof) return rows;
  let cells = 0;
  const put = (row: number, col: number, v: string) => {
    if (v === '') return;
    let m = rows.get(row);
    if (m === undefined) rows.set(row, (m = new Map()));
    m.set(col, v.replace(/[\t\r\n]+/g, ' '));
    cells++;
  };
  /** A formula whose cached value is a string: the STRING record that follows holds it. */
  let pendingString: { row: number; col: number } | null = null;
  const byteString = (d: Buffer, at: number, cch: number) => decodeBytes(d.subarray(at, Math.min(d.length, at + cch)), codePage ?? 'latin1');
  // An embedded chart is a BOF … EOF substream inside the sheet's: skipped.
  let depth = 0;
  for (const rec of records(s, offset + 4 + s.readUInt16LE(offset + 2), end)) {
    if (rec.type === R.bof) depth++;
    else if (rec.type === R.eof) {
      if (depth === 0) break;
      depth--;
      continue;
    }
    if (depth > 0) continue;
    if (cells >= MAX_SHEET_CELLS) break;
    const d = rec.parts[0];
    if (d.length < 6 && rec.type !== R.string) continue;
    try {
      switch (rec.type) {
        case R.labelSst:
          if (d.length >= 10) put(d.readUInt16LE(0), d.readUInt16LE(2), shared[d.readUInt32LE(6)] ?? '');
          break;
        case R.label:
        case R.rString:
          if (biff8) {
            const r = new Reader(rec.parts);
            r.skip(6);
            put(d.readUInt16LE(0), d.readUInt16LE(2), unicodeString(r, false));
          } else if (d.length >= 8) put(d.readUInt16LE(0), d.readUInt16LE(2), byteString(d, 8, d.readUInt16LE(6)));
          break;
        case R.number:
          if (d.length >= 14) put(d.readUInt16LE(0), d.readUInt16LE(2), num(d.readDoubleLE(6)));
          break;
        case R.rk:
          if (d.length >= 10) put(d.readUInt16LE(0), d.readUInt16LE(2), num(rkValue(d.readUInt32LE(6))));
          break;
        case R.mulRk: {
          const row = d.readUInt16LE(0);
          const first = d.readUInt16LE(2);
          for (let k = 0, at = 4; at + 6 <= d.length - 2; k++, at += 6) put(row, first + k, num(rkValue(d.readUInt32LE(at + 2))));
          break;
        }
        case R.boolErr:
          if (d.length >= 8 && d[7] === 0) put(d.readUInt16LE(0), d.readUInt16LE(2), d[6] ? 'TRUE' : 'FALSE');
          break;
        case R.formula: {
          if (d.length < 14) break;
          const row = d.readUInt16LE(0);
          const col = d.readUInt16LE(2);
          if (d.readUInt16LE(12) !== 0xffff) put(row, col, num(d.readDoubleLE(6)));
          else if (d[6] === 0) pendingString = { row, col };
          else if (d[6] === 1) put(row, col, d[8] ? 'TRUE' : 'FALSE');
          break;
        }
        case R.string:
          if (pendingString !== null) {
            const r = new Reader(rec.parts);
            const v = biff8 ? unicodeString(r, false) : byteString(d, 2, d.length >= 2 ? d.readUInt16LE(0) : 0);
            put(pendingString.row, pendingString.col, v);
          }
          pendingString = null;
          break;
      }
    } catch {
      // One damaged cell record: the others are still read.
    }
  }
  return rows;
}
