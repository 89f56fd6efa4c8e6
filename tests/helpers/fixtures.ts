/**
 * Fixture makers for the extractor tests: real files generated on the fly (pdf-lib, hand-written
 * PDF objects with an embedded TrueType font, sharp, the bundled ffmpeg, fflate), so the project's
 * tests need nothing from ../shared.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { strToU8, zipSync } from 'fflate';
import CFB from 'cfb';
import iconv from 'iconv-lite';
import { expect } from 'vitest';
import { PermanentExtractError } from '../../server/ingest/extractors/types.ts';
import type { MediaKind } from '../../server/db/schema.ts';
import { defaultFfmpegPath, defaultFfprobePath } from '../../server/ingest/adapters/ffmpeg.ts';
import type { ExtractInput } from '../../server/ingest/extractors/types.ts';

const run = promisify(execFile);

export async function tempDir(prefix = 'kho-ext-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** An ExtractInput for a file, with a fresh work dir inside `dir`. */
export async function inputFor(path: string, kind: MediaKind, mediaType: string, dir: string, limits: Partial<ExtractInput['limits']> = {}): Promise<ExtractInput> {
  const workDir = await mkdtemp(join(dir, 'work-'));
  return {
    path, sha256: '0'.repeat(64), size: 0, mediaType, kind, workDir,
    limits: { maxImagePixels: 268_402_689, ffmpegPath: defaultFfmpegPath(), ffprobePath: defaultFfprobePath(), deadline: Date.now() + 60_000, ...limits },
  };
}

export async function ffmpeg(args: string[]): Promise<void> {
  await run(defaultFfmpegPath(), ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args], { maxBuffer: 16 * 1024 * 1024 });
}

// ---------- PDF ----------

/** A text PDF made with pdf-lib (standard Helvetica: Latin-1 text only). */
export async function makeSimplePdf(path: string, pageTexts: string[], props: { title?: string; author?: string; subject?: string; keywords?: string[] } = {}): Promise<void> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const text of pageTexts) {
    const page = doc.addPage([595, 842]);
    text.split('\n').forEach((line, i) => page.drawText(line, { x: 50, y: 780 - i * 16, size: 12, font }));
  }
  if (props.title) doc.setTitle(props.title);
  if (props.author) doc.setAuthor(props.author);
  if (props.subject) doc.setSubject(props.subject);
  if (props.keywords) doc.setKeywords(props.keywords);
  doc.setCreationDate(new Date('2023-03-30T08:00:00Z'));
  doc.setModificationDate(new Date('2023-04-01T09:30:00Z'));
  await writeFile(path, await doc.save());
}

/** Serialises PDF objects (numbered from 1) with a correct xref table. */
export function buildRawPdf(objects: Array<string | Buffer>, opts: { root?: number; info?: number; header?: string } = {}): Buffer {
  const parts: Buffer[] = [Buffer.from(`${opts.header ?? '%PDF-1.7'}\n%\xe2\xe3\xcf\xd3\n`, 'latin1')];
  let offset = parts[0].length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(offset);
    const b = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'), Buffer.from('\nendobj\n', 'latin1')]);
    parts.push(b);
    offset += b.length;
  });
  const xref = [`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`, ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`)].join('');
  const trailer = `trailer\n<< /Size ${objects.length + 1} /Root ${opts.root ?? 1} 0 R${opts.info ? ` /Info ${opts.info} 0 R` : ''} >>\nstartxref\n${offset}\n%%EOF\n`;
  parts.push(Buffer.from(xref + trailer, 'latin1'));
  return Buffer.concat(parts);
}

export function streamObject(dict: string, data: Buffer, compress = true): Buffer {
  const body = compress ? deflateSync(data) : data;
  return Buffer.concat([Buffer.from(`<< ${dict} /Length ${body.length}${compress ? ' /Filter /FlateDecode' : ''} >>\nstream\n`, 'latin1'), body, Buffer.from('\nendstream', 'latin1')]);
}

export const DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
export const hasDejaVu = () => existsSync(DEJAVU);

/** Unicode code point → glyph id from a TrueType cmap (format 4, BMP). */
function ttfCmap(ttf: Buffer): Map<number, number> {
  const numTables = ttf.readUInt16BE(4);
  let cmapOff = 0;
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + i * 16;
    if (ttf.toString('latin1', rec, rec + 4) === 'cmap') cmapOff = ttf.readUInt32BE(rec + 8);
  }
  const map = new Map<number, number>();
  const n = ttf.readUInt16BE(cmapOff + 2);
  for (let i = 0; i < n; i++) {
    const rec = cmapOff + 4 + i * 8;
    const sub = cmapOff + ttf.readUInt32BE(rec + 4);
    if (ttf.readUInt16BE(sub) !== 4) continue;
    const segX2 = ttf.readUInt16BE(sub + 6);
    const ends = sub + 14, starts = ends + segX2 + 2, deltas = starts + segX2, ranges = deltas + segX2;
    for (let s = 0; s < segX2 / 2; s++) {
      const end = ttf.readUInt16BE(ends + s * 2), start = ttf.readUInt16BE(starts + s * 2);
      const delta = ttf.readInt16BE(deltas + s * 2), rangeOff = ttf.readUInt16BE(ranges + s * 2);
      for (let c = start; c <= end && c !== 0xffff; c++) {
        let g: number;
        if (rangeOff === 0) g = (c + delta) & 0xffff;
        else {
          const gi = ranges + s * 2 + rangeOff + (c - start) * 2;
          g = ttf.readUInt16BE(gi);
          if (g) g = (g + delta) & 0xffff;
        }
        if (g) map.set(c, g);
      }
    }
    if (map.size) break;
  }
  return map;
}

/**
 * A TrueType font made here, with a box for every character of `chars` and glyph numbers laid out
 * the way full fonts have them: an ASCII character at its code point minus 29 (the usual glyph order,
 * space = glyph 3), every other character from glyph 2400 up (past 2,400 glyphs, as in fonts with
 * Vietnamese letters). Its `cmap` is one Windows Unicode (3,1) format-4 subtable. pdf.js reads such a
 * font without a ToUnicode map as glyph numbers: "Nội" as "1" + U+0960… + "L".
 */
export function makeTrueTypeFont(chars: string): Buffer {
  const cps = [...new Set([...chars].map((c) => c.codePointAt(0)!))].filter((cp) => cp <= 0xfffe).sort((a, b) => a - b);
  const gidOf = new Map<number, number>();
  let far = 2400;
  for (const cp of cps) gidOf.set(cp, cp >= 0x20 && cp < 0x7f ? cp - 29 : far++);
  const numGlyphs = Math.max(far, 0x7f - 29) + 1;
  const u16 = (...v: number[]) => { const b = Buffer.alloc(v.length * 2); v.forEach((x, i) => b.writeUInt16BE(x & 0xffff, i * 2)); return b; };
  const u32 = (...v: number[]) => { const b = Buffer.alloc(v.length * 4); v.forEach((x, i) => b.writeUInt32BE(x >>> 0, i * 4)); return b; };
  // A box 500 wide, 700 high: one contour of four on-curve points (coordinates as 16-bit deltas).
  const box = Buffer.concat([u16(1, 50, 0, 550, 700), u16(3), u16(0), Buffer.from([1, 1, 1, 1]), u16(50, 500, 0, 0x10000 - 500), u16(0, 0, 700, 0), Buffer.alloc(2)]);
  const drawn = new Set([...gidOf.values()].filter((g) => g !== 3));
  const glyf: Buffer[] = [];
  const loca: number[] = [0];
  let at = 0;
  for (let g = 0; g < numGlyphs; g++) {
    if (drawn.has(g)) { glyf.push(box); at += box.length; }
    loca.push(at);
  }
  const segs = [...cps.map((cp) => [cp, gidOf.get(cp)!]), [0xffff, 0]];
  const n = segs.length;
  const cmapSub = Buffer.concat([
    u16(4, 16 + n * 8, 0, n * 2, 0, 0, 0),
    u16(...segs.map(([cp]) => cp)), u16(0), u16(...segs.map(([cp]) => cp)),
    u16(...segs.map(([cp, g]) => (cp === 0xffff ? 1 : g - cp))), u16(...segs.map(() => 0)),
  ]);
  const tables: Record<string, Buffer> = {
    cmap: Buffer.concat([u16(0, 1, 3, 1), u32(12), cmapSub]),
    glyf: Buffer.concat(glyf),
    head: Buffer.concat([u32(0x10000, 0x10000, 0, 0x5f0f3cf5), u16(0x000b, 1000), Buffer.alloc(16), u16(50, 0xffff - 199, 550, 800, 0, 8, 2, 1, 0)]),
    hhea: Buffer.concat([u32(0x10000), u16(800, 0x10000 - 200, 0, 600, 0, 0, 550, 1, 0, 0, 0, 0, 0, 0, 0, numGlyphs)]),
    hmtx: Buffer.concat(Array.from({ length: numGlyphs }, () => u16(600, 50))),
    loca: u32(...loca),
    maxp: Buffer.concat([u32(0x10000), u16(numGlyphs, 4, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0)]),
    post: Buffer.concat([u32(0x30000, 0), u16(0, 0), u32(0, 0, 0, 0, 0)]),
  };
  const tags = Object.keys(tables).sort();
  const dir = Buffer.concat([u32(0x10000), u16(tags.length, 128, 3, tags.length * 16 - 128)]);
  let offset = 12 + tags.length * 16;
  const records: Buffer[] = [];
  const bodies: Buffer[] = [];
  for (const tag of tags) {
    const t = tables[tag];
    const padded = Buffer.concat([t, Buffer.alloc((4 - (t.length % 4)) % 4)]);
    let sum = 0;
    for (let i = 0; i < padded.length; i += 4) sum = (sum + padded.readUInt32BE(i)) >>> 0;
    records.push(Buffer.concat([Buffer.from(tag, 'latin1'), u32(sum, offset, t.length)]));
    bodies.push(padded);
    offset += padded.length;
  }
  return Buffer.concat([dir, ...records, ...bodies]);
}

/**
 * A PDF whose pages show Unicode text (e.g. Vietnamese) in DejaVu Sans, embedded as a CID font.
 * `form: 'NFD'` draws every accented letter as a base glyph followed by combining-mark glyphs (as
 * fonts of the legacy Vietnamese era and some TeX setups do), so the text comes out decomposed
 * and extraction must NFC-normalise to get the source back.
 * `toUnicode: 'none'` leaves the font's ToUnicode map out and `'identity'` names the identity for it
 * (as some printer drivers and converters write their PDFs: the text is then glyph numbers);
 * `fontCmap: false` also renames the embedded font's own `cmap` table, so nothing says which letter
 * a glyph is. `madeFont` embeds a font made by makeTrueTypeFont instead of DejaVu Sans (no system font
 * needed).
 */
export function makeUnicodePdf(path: string, pageTexts: string[], opts: { form?: 'NFC' | 'NFD'; title?: string; toUnicode?: 'map' | 'none' | 'identity'; fontCmap?: boolean; madeFont?: boolean } = {}): Promise<void> {
  const ttf = opts.madeFont ? makeTrueTypeFont(pageTexts.join('').normalize(opts.form ?? 'NFC')) : Buffer.from(readFileSync(DEJAVU));
  const cmap = ttfCmap(ttf);
  const used = new Map<number, string>();
  const encode = (line: string) =>
    [...line.normalize(opts.form ?? 'NFC')].map((ch) => {
      const g = cmap.get(ch.codePointAt(0)!) ?? 0;
      used.set(g, ch);
      return g.toString(16).padStart(4, '0');
    }).join('');
  const contents = pageTexts.map((t) => {
    const lines = t.split('\n').map((l, i) => `BT /F1 9 Tf 40 ${780 - i * 14} Td <${encode(l)}> Tj ET`);
    return Buffer.from(lines.join('\n'), 'latin1');
  });
  const utf16 = (s: string) => Buffer.from(s, 'utf16le').swap16().toString('hex');
  const bf = [...used].map(([g, ch]) => `<${g.toString(16).padStart(4, '0')}> <${utf16(ch)}>`);
  const chunks: string[] = [];
  for (let i = 0; i < bf.length; i += 100) chunks.push(`${bf.slice(i, i + 100).length} beginbfchar\n${bf.slice(i, i + 100).join('\n')}\nendbfchar`);
  const toUnicode = `/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 def 1 begincodespacerange <0000> <FFFF> endcodespacerange\n${chunks.join('\n')}\nendcmap CMapName currentdict /CMap defineresource pop end end`;
  if (opts.fontCmap === false) {
    const numTables = ttf.readUInt16BE(4);
    for (let i = 0; i < numTables; i++) if (ttf.toString('latin1', 12 + i * 16, 16 + i * 16) === 'cmap') ttf.write('zmap', 12 + i * 16, 'latin1');
  }
  const toUnicodeRef = { map: ' /ToUnicode 7 0 R', none: '', identity: ' /ToUnicode /Identity-H' }[opts.toUnicode ?? 'map'];
  const n = pageTexts.length;
  // 1 catalog, 2 pages, 3 Type0 font, 4 CIDFont, 5 descriptor, 6 font file, 7 ToUnicode, 8 info, then page+content pairs.
  const kids = Array.from({ length: n }, (_, i) => `${9 + i * 2} 0 R`).join(' ');
  const objects: Array<string | Buffer> = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${kids}] /Count ${n} >>`,
    `<< /Type /Font /Subtype /Type0 /BaseFont /DejaVuSans /Encoding /Identity-H /DescendantFonts [4 0 R]${toUnicodeRef} >>`,
    '<< /Type /Font /Subtype /CIDFontType2 /BaseFont /DejaVuSans /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 5 0 R /DW 600 /CIDToGIDMap /Identity >>',
    '<< /Type /FontDescriptor /FontName /DejaVuSans /Flags 32 /FontBBox [-1021 -463 1793 1232] /ItalicAngle 0 /Ascent 928 /Descent -236 /CapHeight 729 /StemV 80 /FontFile2 6 0 R >>',
    streamObject(`/Length1 ${ttf.length}`, ttf),
    streamObject('', Buffer.from(toUnicode, 'latin1')),
    `<< /Title <feff${utf16(opts.title ?? '')}> /Producer (kho fixtures) >>`,
  ];
  contents.forEach((c, i) => {
    objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents ${10 + i * 2} 0 R >>`);
    objects.push(streamObject('', c));
  });
  return writeFile(path, buildRawPdf(objects, { root: 1, info: 8 }));
}

/**
 * A PDF laid out the way LibreOffice writes text whose font lacks some letters: each line is drawn
 * in a Windows-1252 font (Times-Roman) with a gap wherever a letter outside that code page goes,
 * then those letters are drawn afterwards from a second font (Helvetica with a /Differences
 * encoding naming them uniXXXX), each positioned in its gap. Word spaces are gaps too, as
 * LibreOffice leaves them. `overInk` adds, after each line, one extra letter of the second font
 * drawn on top of the line's first word (not in a gap: the way TeX sets a letter under an accent).
 */
export function makeFallbackFontPdf(path: string, lines: string[], opts: { overInk?: string } = {}): Promise<void> {
  const cp1252 = new Map<string, number>();
  const dec = new TextDecoder('windows-1252');
  for (let b = 0x21; b <= 0xff; b++) {
    const ch = dec.decode(Uint8Array.of(b));
    if (ch !== '\ufffd' && !cp1252.has(ch)) cp1252.set(ch, b);
  }
  const W1 = (ch: string) => ({ i: 278, l: 278, t: 278, f: 333, r: 333, m: 778, w: 722, M: 889, W: 944, ' ': 250, '.': 250, ',': 250 } as Record<string, number>)[ch] ?? (ch === ch.toUpperCase() && ch !== ch.toLowerCase() ? 667 : 500);
  const size = 12;
  const fallback = new Map<string, number>(); // letter -> code in the second font (from 128)
  const code2 = (ch: string) => {
    if (!fallback.has(ch)) fallback.set(ch, 128 + fallback.size);
    return fallback.get(ch)!;
  };
  const esc = (bytes: number[]) => bytes.map((b) => (b === 0x28 || b === 0x29 || b === 0x5c ? `\\${String.fromCharCode(b)}` : b < 0x20 || b > 0x7e ? `\\${b.toString(8).padStart(3, '0')}` : String.fromCharCode(b))).join('');
  const ops: string[] = [];
  lines.forEach((line, li) => {
    const y = 780 - li * 16;
    // Text objects of the first font: a `|` in the line starts a new one where the next letter of
    // that font goes (as after a bold run), so the gap before it is no TJ move of either.
    const segments: Array<{ x: number; tj: string[] }> = [{ x: 0, tj: [] }];
    let tj = segments[0].tj;
    let run: number[] = [];
    let gap = 0;
    let newSegment = false;
    const late: Array<{ x: number; codes: number[] }> = [];
    let x = 0;
    for (const ch of [...line.normalize('NFC')]) {
      if (ch === '|') {
        if (run.length) tj.push(`(${esc(run)})`);
        run = [];
        newSegment = true;
        continue;
      }
      const w = ch === ' ' ? 250 : cp1252.has(ch) ? W1(ch) : 500;
      if (ch !== ' ' && cp1252.has(ch)) {
        if (newSegment) {
          segments.push({ x, tj: [] });
          tj = segments.at(-1)!.tj;
          newSegment = false;
          gap = 0;
        }
        if (gap) {
          if (run.length) tj.push(`(${esc(run)})`);
          tj.push(String(-gap));
          run = [];
          gap = 0;
        }
        run.push(cp1252.get(ch)!);
      } else {
        gap += w;
        if (ch !== ' ') {
          const last = late.at(-1);
          if (last && Math.abs(last.x + last.codes.length * 500 - x) < 1e-6) last.codes.push(code2(ch));
          else late.push({ x, codes: [code2(ch)] });
        }
      }
      x += w;
    }
    if (run.length) tj.push(`(${esc(run)})`);
    const x0 = 40;
    for (const seg of segments) if (seg.tj.length) ops.push(`BT /F1 ${size} Tf 1 0 0 1 ${(x0 + (seg.x * size) / 1000).toFixed(3)} ${y} Tm [${seg.tj.join(' ')}] TJ ET`);
    for (const l of late) ops.push(`BT /F2 ${size} Tf 1 0 0 1 ${(x0 + (l.x * size) / 1000).toFixed(3)} ${y} Tm (${esc(l.codes)}) Tj ET`);
    if (opts.overInk) ops.push(`BT /F2 ${size} Tf 1 0 0 1 ${x0 + 1} ${y} Tm (${esc([code2(opts.overInk)])}) Tj ET`);
  });
  const names = [...fallback].sort((a, b) => a[1] - b[1]).map(([ch]) => `/uni${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
  const widths1 = Array.from({ length: 224 }, (_, i) => {
    const b = i + 32;
    const ch = b === 32 ? ' ' : [...cp1252].find(([, v]) => v === b)?.[0];
    return ch === undefined ? 500 : W1(ch);
  });
  const objects: Array<string | Buffer> = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> /Contents 4 0 R >>',
    streamObject('', Buffer.from(ops.join('\n'), 'latin1')),
    `<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 255 /Widths [${widths1.join(' ')}] >>`,
    `<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding /Differences [128 ${names.join(' ')}] >> /FirstChar 128 /LastChar ${127 + Math.max(1, names.length)} /Widths [${names.map(() => 500).join(' ') || '500'}] >>`,
  ];
  return writeFile(path, buildRawPdf(objects));
}

/** Hostile PDFs: a page tree that points to itself, a page count claim of a billion, a content-stream bomb. */
export async function makeHostilePdfs(dir: string): Promise<{ cycle: string; hugeCount: string; bomb: string; notPdf: string }> {
  const cycle = join(dir, 'cycle.pdf');
  await writeFile(cycle, buildRawPdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>', '<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>']));
  const hugeCount = join(dir, 'huge-count.pdf');
  await writeFile(hugeCount, buildRawPdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1000000000 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>']));
  const bomb = join(dir, 'bomb.pdf');
  // 160 MB of repeated operators in a ~160 kB FlateDecode stream.
  const payload = Buffer.alloc(160 * 1024 * 1024, ' 0 0 m ');
  await writeFile(bomb, buildRawPdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 4 0 R >>', streamObject('', payload)]));
  const notPdf = join(dir, 'garbage.pdf');
  await writeFile(notPdf, Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(2000, 0x41)]));
  return { cycle, hugeCount, bomb, notPdf };
}

// ---------- Images ----------

/** The displayed picture every orientation fixture must come back to: 300×200, red top-left quadrant, blue elsewhere. */
export function referencePicture() {
  const width = 300, height = 200;
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(x < 150 && y < 100 ? [230, 20, 20] : [20, 40, 220], (y * width + x) * 3);
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

/**
 * A JPEG tagged with EXIF `orientation` whose stored pixels are the reference picture transformed
 * by the inverse of that orientation, so a correct reader shows the reference picture.
 */
export async function makeOrientedJpeg(path: string, orientation: number): Promise<void> {
  const ref = await referencePicture().png().toBuffer();
  const step = (b: Buffer, f: (s: Sharp) => Sharp) => f(sharp(b)).png().toBuffer();
  let stored: Buffer;
  switch (orientation) {
    case 1: stored = ref; break;
    case 2: stored = await step(ref, (s) => s.flop()); break;
    case 3: stored = await step(ref, (s) => s.rotate(180)); break;
    case 4: stored = await step(ref, (s) => s.flip()); break;
    case 5: stored = await step(await step(ref, (s) => s.rotate(90)), (s) => s.flop()); break; // transpose (self-inverse)
    case 6: stored = await step(ref, (s) => s.rotate(270)); break;
    case 7: stored = await step(await step(ref, (s) => s.rotate(90)), (s) => s.flip()); break; // transverse (self-inverse)
    case 8: stored = await step(ref, (s) => s.rotate(90)); break;
    default: throw new Error(`bad orientation ${orientation}`);
  }
  await sharp(stored).jpeg({ quality: 92 }).withMetadata({ orientation }).toFile(path);
}

/** A JPEG with EXIF camera/date/GPS, built by sharp's withExif. */
export async function makeExifJpeg(path: string): Promise<void> {
  await sharp({ create: { width: 640, height: 480, channels: 3, background: '#808080' } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'KhoCam', Model: 'Model 7', Copyright: 'Sở VHTTDL' },
      IFD2: { DateTimeOriginal: '2023:03:30 10:15:00' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '22/1 40/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '106/1 15/1 0/1' },
    })
    .toFile(path);
}

// ---------- Video / audio ----------

/** H.264+AAC MP4: `seconds` long, optional black lead-in, optional rotate tag (clockwise degrees). */
export async function makeVideo(path: string, opts: { seconds?: number; width?: number; height?: number; rotate?: number; blackLeadSec?: number } = {}): Promise<void> {
  const { seconds = 4, width = 320, height = 240, rotate, blackLeadSec = 0 } = opts;
  const src = `testsrc=size=${width}x${height}:rate=25:duration=${seconds - blackLeadSec}`;
  const video = blackLeadSec > 0
    ? ['-f', 'lavfi', '-i', `color=c=black:size=${width}x${height}:rate=25:duration=${blackLeadSec}`, '-f', 'lavfi', '-i', src]
    : ['-f', 'lavfi', '-i', src];
  const audioIdx = blackLeadSec > 0 ? 2 : 1;
  const filter = blackLeadSec > 0 ? ['-filter_complex', '[0:v][1:v]concat=n=2:v=1:a=0[v]', '-map', '[v]'] : ['-map', '0:v'];
  await ffmpeg([
    ...video, '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`,
    ...filter, '-map', `${audioIdx}:a`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest',
    '-movflags', '+faststart', rotate !== undefined ? `${path}.plain.mp4` : path,
  ]);
  // The display matrix is only written when remuxing (stream copy) with a rotate tag.
  if (rotate !== undefined) await ffmpeg(['-i', `${path}.plain.mp4`, '-c', 'copy', '-metadata:s:v:0', `rotate=${rotate}`, path]);
}

export interface AudioTags { title?: string; artist?: string; album?: string; date?: string; comment?: string }

const tagArgs = (t: AudioTags) => Object.entries(t).flatMap(([k, v]) => ['-metadata', `${k}=${v}`]);

/** A sine tone in the container implied by the extension (.mp3 ID3v2.3, .ogg/.opus/.flac Vorbis comments, .m4a MP4 atoms, .wav). */
export async function makeAudio(path: string, opts: { seconds?: number; tags?: AudioTags; coverJpeg?: string } = {}): Promise<void> {
  const { seconds = 3, tags = {}, coverJpeg } = opts;
  const ext = path.split('.').pop();
  const codec: Record<string, string[]> = {
    mp3: ['-c:a', 'libmp3lame', '-b:a', '64k', '-id3v2_version', '3'],
    ogg: ['-c:a', 'libvorbis'],
    opus: ['-c:a', 'libopus'],
    flac: ['-c:a', 'flac'],
    m4a: ['-c:a', 'aac', '-movflags', '+faststart'],
    wav: ['-c:a', 'pcm_s16le'],
  };
  const cover = coverJpeg ? ['-i', coverJpeg, '-map', '0:a', '-map', '1:v', '-c:v', 'mjpeg', '-disposition:v:0', 'attached_pic'] : [];
  await ffmpeg(['-f', 'lavfi', '-i', `sine=frequency=330:sample_rate=44100:duration=${seconds}`, ...cover, ...(codec[ext ?? ''] ?? []), ...tagArgs(tags), path]);
}

// ---------- Office / text ----------

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A minimal but valid DOCX: one paragraph per line, core properties. `extra.body` is WordprocessingML
 * put after the paragraphs (note references…), `extra.parts` more parts by name (word/footnotes.xml…).
 */
export async function makeDocx(path: string, paragraphs: string[], props: { title?: string; creator?: string } = {}, extra: { body?: string; parts?: Record<string, string> } = {}): Promise<void> {
  const body = paragraphs.map((p) => `<w:p><w:r><w:t xml:space="preserve">${xmlEscape(p)}</w:t></w:r></w:p>`).join('') + (extra.body ?? '');
  await writeFile(path, zipSync({
    '[Content_Types].xml': strToU8('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>'),
    '_rels/.rels': strToU8('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>'),
    'word/document.xml': strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`),
    'docProps/core.xml': strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>${xmlEscape(props.title ?? '')}</dc:title><dc:creator>${xmlEscape(props.creator ?? '')}</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">2023-03-30T08:00:00Z</dcterms:created></cp:coreProperties>`),
    ...Object.fromEntries(Object.entries(extra.parts ?? {}).map(([name, xml]) => [name, strToU8(xml)])),
  }));
}

/** A minimal ODT with paragraphs, a tab and repeated spaces, meta.xml and a thumbnail PNG. */
export async function makeOdt(path: string, paragraphs: string[], props: { title?: string; creator?: string } = {}): Promise<void> {
  const body = paragraphs.map((p) => `<text:p text:style-name="P1">${xmlEscape(p)}</text:p>`).join('');
  const thumb = await sharp({ create: { width: 181, height: 256, channels: 3, background: '#ffffff' } }).png().toBuffer();
  await writeFile(path, zipSync({
    mimetype: [strToU8('application/vnd.oasis.opendocument.text'), { level: 0 }],
    'content.xml': strToU8(`<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>${body}<text:p>A<text:tab/>B<text:s text:c="3"/>C</text:p></office:text></office:body></office:document-content>`),
    'meta.xml': strToU8(`<?xml version="1.0" encoding="UTF-8"?><office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta><dc:title>${xmlEscape(props.title ?? '')}</dc:title><meta:initial-creator>${xmlEscape(props.creator ?? '')}</meta:initial-creator><meta:document-statistic meta:page-count="1" meta:word-count="12"/></office:meta></office:document-meta>`),
    'Thumbnails/thumbnail.png': thumb,
    'META-INF/manifest.xml': strToU8('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/></manifest:manifest>'),
  }));
}

export interface SlideSpec {
  /** Title placeholder text. */
  title: string;
  /** Body paragraphs; each paragraph's runs (a paragraph may be split into several runs, as editors do). */
  body: string[][];
  notes?: string;
}

const PML = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

/**
 * A PPTX as PowerPoint writes one: the slide list in ppt/presentation.xml decides the order (it
 * need not follow the part names: `order` lists the slides' part numbers in showing order), text in
 * runs inside shapes, speaker notes on notes slides (with a slide-number field), core and app
 * properties, a saved preview. `opts.slideshow` makes a PPSX.
 */
export async function makePptx(path: string, slides: SlideSpec[], opts: { title?: string; creator?: string; order?: number[]; slideshow?: boolean } = {}): Promise<void> {
  const order = opts.order ?? slides.map((_, i) => i + 1);
  const files: Record<string, Uint8Array | [Uint8Array, { level: 0 }]> = {};
  const mainType = opts.slideshow ? 'application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml' : 'application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml';
  const overrides = slides.map((sl, i) => `<Override PartName="/ppt/slides/slide${i + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/>${sl.notes ? `<Override PartName="/ppt/notesSlides/notesSlide${i + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.notesSlide+xml"/>` : ''}`).join('');
  files['[Content_Types].xml'] = strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="jpeg" ContentType="image/jpeg"/><Override PartName="/ppt/presentation.xml" ContentType="${mainType}"/>${overrides}<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>`);
  files['_rels/.rels'] = strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="ppt/presentation.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="${REL}/extended-properties" Target="docProps/app.xml"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail" Target="docProps/thumbnail.jpeg"/></Relationships>`);
  files['ppt/presentation.xml'] = strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><p:presentation ${PML}><p:sldMasterIdLst/><p:sldIdLst>${order.map((n, i) => `<p:sldId id="${256 + i}" r:id="rIdS${n}"/>`).join('')}</p:sldIdLst><p:sldSz cx="12192000" cy="6858000"/></p:presentation>`);
  files['ppt/_rels/presentation.xml.rels'] = strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${slides.map((_, i) => `<Relationship Id="rIdS${i + 1}" Type="${REL}/slide" Target="slides/slide${i + 1}.xml"/>`).join('')}</Relationships>`);
  const shape = (id: number, paras: string[][]) => `<p:sp><p:nvSpPr><p:cNvPr id="${id}" name="Shape ${id}"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/><a:lstStyle/>${paras.map((runs) => `<a:p>${runs.map((r) => `<a:r><a:rPr lang="vi-VN" dirty="0"/><a:t>${xmlEscape(r)}</a:t></a:r>`).join('')}<a:endParaRPr lang="vi-VN"/></a:p>`).join('')}</p:txBody></p:sp>`;
  slides.forEach((sl, i) => {
    const n = i + 1;
    files[`ppt/slides/slide${n}.xml`] = strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><p:sld ${PML}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>${shape(2, [[sl.title]])}${shape(3, sl.body)}</p:spTree></p:cSld></p:sld>`);
    files[`ppt/slides/_rels/slide${n}.xml.rels`] = strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/slideLayout" Target="../slideLayouts/slideLayout1.xml"/>${sl.notes ? `<Relationship Id="rId2" Type="${REL}/notesSlide" Target="../notesSlides/notesSlide${n}.xml"/>` : ''}</Relationships>`);
    if (sl.notes) {
      files[`ppt/notesSlides/notesSlide${n}.xml`] = strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><p:notes ${PML}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>${shape(2, [[sl.notes]])}<p:sp><p:nvSpPr><p:cNvPr id="4" name="Slide Number"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/><a:p><a:fld id="{B6F15528-21DE-4FAA-801E-634DDDAF4B2B}" type="slidenum"><a:rPr lang="vi-VN"/><a:t>${n}</a:t></a:fld><a:endParaRPr lang="vi-VN"/></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:notes>`);
    }
  });
  files['docProps/core.xml'] = strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>${xmlEscape(opts.title ?? '')}</dc:title><dc:creator>${xmlEscape(opts.creator ?? '')}</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">2023-03-30T08:00:00Z</dcterms:created></cp:coreProperties>`);
  files['docProps/app.xml'] = strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Microsoft Office PowerPoint</Application><Slides>${slides.length}</Slides><Notes>${slides.filter((s) => s.notes).length}</Notes><HiddenSlides>0</HiddenSlides><Company>Ban Tuyên giáo Tỉnh uỷ</Company></Properties>`);
  files['docProps/thumbnail.jpeg'] = await sharp({ create: { width: 256, height: 144, channels: 3, background: '#9b1c1c' } }).jpeg().toBuffer();
  await writeFile(path, zipSync(files));
}

/** A minimal ODP (as LibreOffice Impress writes one): one draw:page per slide with frames of text, speaker notes, meta.xml, a preview. */
export async function makeOdp(path: string, slides: SlideSpec[], props: { title?: string; creator?: string } = {}): Promise<void> {
  const frame = (paras: string[][]) => `<draw:frame><draw:text-box>${paras.map((runs) => `<text:p>${runs.map((r) => `<text:span>${xmlEscape(r)}</text:span>`).join('')}</text:p>`).join('')}</draw:text-box></draw:frame>`;
  const pages = slides.map((sl, i) => `<draw:page draw:name="page${i + 1}" draw:master-page-name="Default">${frame([[sl.title]])}${frame(sl.body)}${sl.notes ? `<presentation:notes><draw:page-thumbnail draw:page-number="${i + 1}"/>${frame([[sl.notes]])}<draw:frame><draw:text-box><text:p><text:span><text:page-number>&lt;number&gt;</text:page-number></text:span></text:p></draw:text-box></draw:frame></presentation:notes>` : ''}</draw:page>`).join('');
  await writeFile(path, zipSync({
    mimetype: [strToU8('application/vnd.oasis.opendocument.presentation'), { level: 0 }],
    'content.xml': strToU8(`<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"><office:body><office:presentation>${pages}</office:presentation></office:body></office:document-content>`),
    'meta.xml': strToU8(`<?xml version="1.0" encoding="UTF-8"?><office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta><dc:title>${xmlEscape(props.title ?? '')}</dc:title><meta:initial-creator>${xmlEscape(props.creator ?? '')}</meta:initial-creator></office:meta></office:document-meta>`),
    'Thumbnails/thumbnail.png': await sharp({ create: { width: 256, height: 192, channels: 3, background: '#ffffff' } }).png().toBuffer(),
    'META-INF/manifest.xml': strToU8('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.presentation"/></manifest:manifest>'),
  }));
}

/**
 * A PowerPoint 97–2003 .ppt ([MS-PPT] records in a compound file written with cfb): the document's
 * slide lists (masters with their boilerplate, slides in `order` with their title and body, notes),
 * a master, one slide container per part with a text box in its drawing (`boxes[i]`, when given)
 * and the notes in notes containers, the persist directory, a user edit and the Current User stream.
 * Notes of the first slide are kept in the notes slide list, the others in the notes' drawing, as
 * PowerPoint does either. `opts.noCurrentUser` leaves that stream out (a damaged edit chain).
 */
export function makePpt(slides: SlideSpec[], opts: { order?: number[]; boxes?: Array<string | null>; noCurrentUser?: boolean; summary?: Parameters<typeof summaryInformation>[0] } = {}): Buffer {
  const rec = (type: number, data: Buffer, inst = 0, ver = 0) => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE((inst << 4) | ver, 0);
    h.writeUInt16LE(type, 2);
    h.writeUInt32LE(data.length, 4);
    return Buffer.concat([h, data]);
  };
  const cont = (t: number, children: Buffer[], inst = 0) => rec(t, Buffer.concat(children), inst, 0xf);
  const chars = (text: string) => rec(0x0fa0, Buffer.from(text.replace(/\n/g, '\r'), 'utf16le'));
  const bytes = (text: string) => rec(0x0fa8, Buffer.from(text, 'latin1'));
  const header = (kind: number) => rec(0x0f9f, Buffer.from([kind, 0, 0, 0]));
  const u32s = (...v: number[]) => {
    const b = Buffer.alloc(v.length * 4);
    v.forEach((x, i) => b.writeUInt32LE(x, i * 4));
    return b;
  };
  const persistAtom = (ref: number) => rec(0x03f3, u32s(ref, 0, 2, 256 + ref, 0));
  const drawing = (text: Buffer) => cont(0x040c, [cont(0xf002, [cont(0xf003, [cont(0xf004, [rec(0xf00a, u32s(2, 0)), cont(0xf00d, [header(4), text])])])])]);
  const order = opts.order ?? slides.map((_, i) => i + 1);
  const n = slides.length;
  // Persist ids: 1 document, 2 master, 3.. slides (by part), then the notes.
  const slideRef = (part: number) => 2 + part;
  const notesRef = new Map<number, number>();
  slides.forEach((sl, i) => sl.notes && notesRef.set(i + 1, 3 + n + notesRef.size));
  const slideList = order.flatMap((part) => {
    const sl = slides[part - 1];
    return [persistAtom(slideRef(part)), header(0), chars(sl.title), header(1), chars(sl.body.map((runs) => runs.join('')).join('\n'))];
  });
  const notesList = [...notesRef].flatMap(([part, ref]) => (part === 1 ? [persistAtom(ref), header(2), chars(slides[0].notes!)] : [persistAtom(ref)]));
  const document = cont(0x03e8, [
    rec(0x03e9, Buffer.alloc(40)),
    cont(0x0ff0, [persistAtom(2), header(0), chars('Nhấp để sửa kiểu tiêu đề Bản cái')], 1),
    cont(0x0ff0, slideList, 0),
    cont(0x0ff0, notesList, 2),
  ]);
  const master = cont(0x03f8, [rec(0x03ef, Buffer.alloc(24)), drawing(chars('Nhấp để sửa kiểu văn bản Bản cái\nMức hai'))]);
  const parts: Buffer[] = [document, master];
  const offsets = new Map<number, number>([[1, 0], [2, document.length]]);
  let at = document.length + master.length;
  slides.forEach((_, i) => {
    const atom = Buffer.alloc(24);
    // notesIdRef: the notes' id in the notes list (persistAtom writes 256 + persist id as the id).
    const nr = notesRef.get(i + 1);
    atom.writeUInt32LE(nr !== undefined ? 256 + nr : 0, 16);
    const b = opts.boxes?.[i];
    const slide = cont(0x03ee, [rec(0x03ef, atom), ...(b ? [drawing(/^[\x20-\x7e]*$/.test(b) ? bytes(b) : chars(b))] : [])]);
    offsets.set(slideRef(i + 1), at);
    parts.push(slide);
    at += slide.length;
  });
  for (const [part, ref] of notesRef) {
    const notes = cont(0x03f0, [rec(0x03f1, Buffer.alloc(8)), drawing(chars(part === 1 ? '' : slides[part - 1].notes!)), drawing(chars('*'))]);
    offsets.set(ref, at);
    parts.push(notes);
    at += notes.length;
  }
  const ids = [...offsets.keys()].sort((a, b) => a - b);
  const dir = rec(0x1772, u32s((1 & 0xfffff) | (ids.length << 20), ...ids.map((id) => offsets.get(id)!)));
  const dirAt = at;
  parts.push(dir);
  at += dir.length;
  const edit = rec(0x0ff5, Buffer.concat([u32s(256), Buffer.from([0, 0, 0, 3]), u32s(0, dirAt, 1, ids.length + 1), Buffer.alloc(4)]));
  const editAt = at;
  parts.push(edit);
  const cfb = CFB.utils.cfb_new();
  CFB.utils.cfb_add(cfb, '/PowerPoint Document', Buffer.concat(parts));
  if (opts.summary) CFB.utils.cfb_add(cfb, '/\u0005SummaryInformation', summaryInformation(opts.summary));
  if (!opts.noCurrentUser) {
    const cu = Buffer.concat([rec(0x0ff6, Buffer.concat([u32s(0x14, 0xe391c05f, editAt), Buffer.from([0, 0, 0xf4, 0x03, 3, 0, 0, 0])]))]);
    CFB.utils.cfb_add(cfb, '/Current User', cu);
  }
  return Buffer.from(CFB.write(cfb, { type: 'buffer' }) as Uint8Array);
}

/**
 * A SummaryInformation property set ([MS-OLEPS]) with a title and author in `codePage` (1258: how
 * Vietnamese Windows writes them), a creation time and a page count.
 */
export function summaryInformation(props: { title: string; author: string; created: Date; pages?: number; codePage?: number }): Buffer {
  const cp = props.codePage ?? 1258;
  const str = (t: string) => {
    const bytes = Buffer.concat([cp === 1258 ? iconv.encode(toCp1258Form(t), 'windows-1258') : cp === 1252 ? iconv.encode(t, 'windows-1252') : Buffer.from(t, 'utf8'), Buffer.from([0])]);
    const pad = Buffer.alloc((4 - (bytes.length % 4)) % 4);
    const head = Buffer.alloc(8);
    head.writeUInt32LE(0x1e, 0);
    head.writeUInt32LE(bytes.length, 4);
    return Buffer.concat([head, bytes, pad]);
  };
  const i4 = (type: number, v: number) => {
    const b = Buffer.alloc(8);
    b.writeUInt32LE(type, 0);
    if (type === 2) b.writeUInt16LE(v, 4);
    else b.writeInt32LE(v, 4);
    return b;
  };
  const filetime = (d: Date) => {
    const b = Buffer.alloc(12);
    b.writeUInt32LE(0x40, 0);
    b.writeBigUInt64LE((BigInt(d.getTime()) + 11_644_473_600_000n) * 10_000n, 4);
    return b;
  };
  const values: Array<[number, Buffer]> = [[1, i4(2, cp)], [2, str(props.title)], [4, str(props.author)], [12, filetime(props.created)], [14, i4(3, props.pages ?? 1)]];
  let offset = 8 + values.length * 8;
  const index = Buffer.alloc(values.length * 8);
  values.forEach(([id, v], k) => {
    index.writeUInt32LE(id, k * 8);
    index.writeUInt32LE(offset, k * 8 + 4);
    offset += v.length;
  });
  const sectionHead = Buffer.alloc(8);
  sectionHead.writeUInt32LE(offset, 0);
  sectionHead.writeUInt32LE(values.length, 4);
  const header = Buffer.alloc(48);
  header.writeUInt16LE(0xfffe, 0);
  header.writeUInt32LE(1, 24);
  Buffer.from('e0859ff2f94f6810ab9108002b27b3d9', 'hex').copy(header, 28);
  header.writeUInt32LE(48, 44);
  return Buffer.concat([header, sectionHead, index, ...values.map(([, v]) => v)]);
}

/**
 * A minimal Word 97–2003 .doc: the File Information Block (magic, the 1Table flag, fcMin, ccpText,
 * the piece table's place), the text as one UTF-16 piece, the piece table in 1Table, and a
 * SummaryInformation stream when `summary` is given. `stories` are the footnote, comment
 * (annotation) and endnote texts, after the main text in that order (ccpFtn, ccpAtn, ccpEdn), each
 * note led by its reference mark as Word writes it (0x02, 0x05).
 */
export function makeDoc(paragraphs: string[], summary?: Parameters<typeof summaryInformation>[0], stories: { footnotes?: string[]; comments?: string[]; endnotes?: string[] } = {}): Buffer {
  const story = (notes: string[] | undefined, mark: string) => (notes?.length ? `${notes.map((n) => mark + n).join('\r')}\r` : '');
  const [ftn, atn, edn] = [story(stories.footnotes, '\u0002'), story(stories.comments, '\u0005'), story(stories.endnotes, '\u0002')];
  const main = `${paragraphs.join('\r')}\r`;
  const text = main + ftn + atn + edn;
  const fc = 0x800;
  const word = Buffer.alloc(fc + text.length * 2);
  word.writeUInt16LE(0xa5ec, 0);
  word.writeUInt16LE(0x00c1, 2);
  word.writeUInt16LE(0x0200, 0xa);
  word.writeUInt32LE(fc, 0x18);
  word.writeUInt32LE(fc + text.length * 2, 0x1c);
  word.writeUInt32LE(main.length, 0x4c);
  word.writeUInt32LE(ftn.length, 0x50);
  word.writeUInt32LE(atn.length, 0x5c);
  word.writeUInt32LE(edn.length, 0x60);
  word.writeUInt32LE(0, 0x1a2);
  word.writeUInt32LE(21, 0x1a6);
  word.write(text, fc, 'utf16le');
  const table = Buffer.alloc(21);
  table.writeUInt8(2, 0);
  table.writeUInt32LE(16, 1);
  table.writeUInt32LE(0, 5);
  table.writeUInt32LE(text.length, 9);
  table.writeUInt32LE(fc, 15);
  const cfb = CFB.utils.cfb_new();
  CFB.utils.cfb_add(cfb, '/WordDocument', word);
  CFB.utils.cfb_add(cfb, '/1Table', table);
  if (summary) CFB.utils.cfb_add(cfb, '/\u0005SummaryInformation', summaryInformation(summary));
  return Buffer.from(CFB.write(cfb, { type: 'buffer' }) as Uint8Array);
}

/**
 * An EPUB 3 e-book: the container names OEBPS/content.opf; the spine reads the chapters in `order`
 * (manifest order differs), one chapter sits in a subfolder under a percent-escaped name; XHTML with
 * a head, style, script, entities and line breaks; Dublin Core metadata; a cover image by property
 * (EPUB 3) or, with `epub2Cover`, by <meta name="cover"> (EPUB 2).
 */
export async function makeEpub(path: string, chapters: Array<{ title: string; paragraphs: string[] }>, meta: { title: string; creators: string[]; isbn?: string }, opts: { order?: number[]; epub2Cover?: boolean } = {}): Promise<void> {
  const order = opts.order ?? chapters.map((_, i) => i + 1);
  const href = (n: number) => (n === 2 ? 'Text/chuong%202.xhtml' : `chuong${n}.xhtml`);
  const file = (n: number) => (n === 2 ? 'OEBPS/Text/chuong 2.xhtml' : `OEBPS/chuong${n}.xhtml`);
  const files: Record<string, Uint8Array | [Uint8Array, { level: 0 }]> = {
    mimetype: [strToU8('application/epub+zip'), { level: 0 }],
    'META-INF/container.xml': strToU8('<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>'),
    'OEBPS/content.opf': strToU8(`<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">urn:isbn:${meta.isbn ?? '9786045712345'}</dc:identifier><dc:title>${xmlEscape(meta.title)}</dc:title>${meta.creators.map((c) => `<dc:creator>${xmlEscape(c)}</dc:creator>`).join('')}<dc:language>vi</dc:language><dc:publisher>Nhà xuất bản Chính trị quốc gia Sự thật</dc:publisher><dc:date>2023-03-30</dc:date><meta property="dcterms:modified">2023-03-30T08:00:00Z</meta>${opts.epub2Cover ? '<meta name="cover" content="cover"/>' : ''}</metadata><manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/><item id="css" href="style.css" media-type="text/css"/><item id="cover" href="images/bia.jpg" media-type="image/jpeg"${opts.epub2Cover ? '' : ' properties="cover-image"'}/>${chapters.map((_, i) => `<item id="c${i + 1}" href="${href(i + 1)}" media-type="application/xhtml+xml"/>`).join('')}</manifest><spine>${order.map((n) => `<itemref idref="c${n}"/>`).join('')}</spine></package>`),
    'OEBPS/nav.xhtml': strToU8('<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><nav><ol><li>Mục lục</li></ol></nav></body></html>'),
    'OEBPS/style.css': strToU8('p { margin: 0 }'),
    'OEBPS/images/bia.jpg': await sharp({ create: { width: 300, height: 450, channels: 3, background: '#b45309' } }).jpeg().toBuffer(),
  };
  chapters.forEach((ch, i) => {
    files[file(i + 1)] = strToU8(`<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml" xml:lang="vi"><head><title>Tiêu đề trong head</title><style>h1 { color: red }</style></head><body><script>var x = "không phải văn bản";</script><h1>${xmlEscape(ch.title)}</h1>\n  ${ch.paragraphs.map((p) => `<p>${xmlEscape(p).replace(/ – /g, '&nbsp;&ndash; ')}</p>`).join('\n  ')}<p>Dòng một<br/>dòng hai</p></body></html>`);
  });
  await writeFile(path, zipSync(files));
}

/**
 * An XLSX workbook as Excel writes one: sheets listed in xl/workbook.xml (order and names; the
 * parts' numbers differ), shared strings (one with rich-text runs), an inline string, numbers, a
 * boolean, a formula with its cached value, an empty row between.
 */
export async function makeXlsx(path: string, opts: { title?: string } = {}): Promise<void> {
  const ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
  const shared = ['Huyện', 'Số tờ rơi', 'Hà Quảng', 'Trùng Khánh', 'Tổng'];
  await writeFile(path, zipSync({
    '[Content_Types].xml': strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>`),
    '_rels/.rels': strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>`),
    'xl/workbook.xml': strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook ${ns}><bookViews><workbookView/></bookViews><sheets><sheet name="Tờ rơi 2023" sheetId="1" r:id="rId2"/><sheet name="Ghi chú &amp; nguồn" sheetId="2" r:id="rId1"/></sheets></workbook>`),
    'xl/_rels/workbook.xml.rels': strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="${REL}/worksheet" Target="/xl/worksheets/sheet2.xml"/><Relationship Id="rId3" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>`),
    'xl/sharedStrings.xml': strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst ${ns} count="5" uniqueCount="5">${shared.map((t, i) => (i === 1 ? `<si><r><t>Số tờ</t></r><r><rPr><b/></rPr><t xml:space="preserve"> rơi</t></r></si>` : `<si><t>${xmlEscape(t)}</t></si>`)).join('')}</sst>`),
    // Shown first (rId2): the counts.
    'xl/worksheets/sheet2.xml': strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet ${ns}><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>1500</v></c></row><row r="3"/><row r="4"><c r="A4" t="s"><v>3</v></c><c r="B4"><v>2750.5</v></c><c r="C4" t="b"><v>1</v></c></row><row r="5"><c r="A5" t="s"><v>4</v></c><c r="B5"><f>SUM(B2:B4)</f><v>4250.5</v></c></row></sheetData></worksheet>`),
    'xl/worksheets/sheet1.xml': strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet ${ns}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Nguồn: Ban Tuyên giáo Tỉnh uỷ</t></is></c></row></sheetData></worksheet>`),
    'docProps/core.xml': strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>${xmlEscape(opts.title ?? '')}</dc:title><dc:creator>Sở Văn hoá</dc:creator></cp:coreProperties>`),
  }));
}

/** An ODS with one table: rows of cells, a cell repeated twice, rows padded with a million repeated empty cells as LibreOffice writes them. */
export async function makeOds(path: string): Promise<void> {
  const cell = (t: string, repeat?: number) => `<table:table-cell${repeat ? ` table:number-columns-repeated="${repeat}"` : ''} office:value-type="string"><text:p>${xmlEscape(t)}</text:p></table:table-cell>`;
  const empty = '<table:table-cell table:number-columns-repeated="1048570"/>';
  const rows = [[cell('Xã'), cell('Buổi chiếu phim')], [cell('Trường Hà'), cell('có', 2)], [empty]].map((r) => `<table:table-row>${r.join('')}${empty}</table:table-row>`).join('');
  await writeFile(path, zipSync({
    mimetype: [strToU8('application/vnd.oasis.opendocument.spreadsheet'), { level: 0 }],
    'content.xml': strToU8(`<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="Chiếu phim lưu động"><table:table-column table:number-columns-repeated="1024"/>${rows}<table:table-row table:number-rows-repeated="1048573"><table:table-cell table:number-columns-repeated="1024"/></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>`),
    'meta.xml': strToU8('<?xml version="1.0" encoding="UTF-8"?><office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta><dc:title>Chiếu phim</dc:title></office:meta></office:document-meta>'),
    'META-INF/manifest.xml': strToU8('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>'),
  }));
}

/** Slides in Vietnamese for the deck fixtures. */
export const VI_SLIDES: SlideSpec[] = [
  { title: 'Kỷ niệm Ngày thành lập Đảng', body: [['Tuyên truyền ', 'sâu rộng trong ', 'nhân dân'], ['Khu di tích Pác Bó, huyện Hà Quảng']], notes: 'Người trình bày nhấn mạnh ý nghĩa lịch sử của Pác Bó.' },
  { title: 'Giáo dục truyền thống', body: [['Thế hệ trẻ ', 'Cao ', 'Bằng'], ['Hát then, đàn tính & dân ca Tày – Nùng']] },
  { title: 'Du lịch', body: [['Thác Bản Giốc'], ['Động Ngườm Ngao']], notes: 'Ghi chú: phát tờ gấp bản đồ du lịch cho khách.' },
];

/** Vietnamese sample text used across fixtures (NFC). */
export const VI_TEXT = 'Kho tư liệu chung của Đề án: sản phẩm tuyên truyền, giáo dục truyền thống tỉnh Cao Bằng.\nNgày 30 tháng 3 năm 2023 – Ban Tuyên giáo Tỉnh uỷ.';

/** Vietnamese text that the legacy 8-bit code pages (TCVN3, VISCII, Windows-1258) can all represent. */
export const VI_LEGACY_TEXT = 'Kho tư liệu chung của Đề án tỉnh Cao Bằng, ngày 30 tháng 3 năm 2023.\nBan Tuyên giáo Tỉnh uỷ: sản phẩm tuyên truyền, giáo dục truyền thống; người Tày, Nùng.';

/** Windows-1258 spelling: letters with circumflex/breve/horn precomposed, tone marks as combining characters. */
export function toCp1258Form(s: string): string {
  const tones = /[\u0300\u0301\u0303\u0309\u0323]/g;
  return [...s.normalize('NFC')].map((ch) => {
    const d = ch.normalize('NFD');
    return d.replace(tones, '').normalize('NFC') + (d.match(tones)?.join('') ?? '');
  }).join('');
}

/** Text as Word writes it in RTF: ASCII as is (\\, { and } escaped), every other character as \uN with a '?' fallback byte, paragraphs as \par. */
export function rtfEscape(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '\n') out += '\\par\n';
    else if (ch === '\\' || ch === '{' || ch === '}') out += `\\${ch}`;
    else if (c < 0x80) out += ch;
    else for (const unit of ch.length === 2 ? [ch.charCodeAt(0), ch.charCodeAt(1)] : [c]) out += `\\u${unit > 32767 ? unit - 65536 : unit}\\'3f`;
  }
  return out;
}

/** Bytes as RTF hex escapes (\'hh). */
export const rtfHex = (bytes: Uint8Array): string => [...bytes].map((b) => (b < 0x80 && b >= 0x20 && b !== 0x5c && b !== 0x7b && b !== 0x7d ? String.fromCharCode(b) : `\\'${b.toString(16).padStart(2, '0')}`)).join('');

/** Await an extractor call that must fail permanently, and return the error (for its code). */
export async function failure(p: Promise<unknown>): Promise<PermanentExtractError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(PermanentExtractError);
  return err as PermanentExtractError;
}

export type XlsCell = string | number | boolean | { formula: string | number } | null;
export interface XlsSheet {
  name: string;
  rows: XlsCell[][];
  /** A chart sheet (no cells): the reader leaves it out. */
  chart?: boolean;
}

/**
 * An Excel 97–2003 .xls ([MS-XLS] BIFF8 records in a compound file written with cfb): the globals
 * (BOF, CODEPAGE, BOUNDSHEET per sheet, the shared-string table SST), then each sheet's substream.
 * Strings are LABELSST cells; whole numbers RK (runs of them one MULRK), others NUMBER, booleans
 * BOOLERR; `{ formula }` a FORMULA with its cached value (a string one followed by a STRING record).
 * `maxRecord` cuts records into CONTINUE records at that many bytes (Excel: 8,224) — a shared
 * string cut there goes on after an option byte, Latin-1 strings switching to UTF-16 and back.
 * `biff5`: an Excel 5/95 "Book" stream instead, byte strings in Windows-1258 in LABEL records.
 * `encrypted` adds a FILEPASS record; `boundSheetCopies` repeats the first BOUNDSHEET record that
 * many more times (all naming the same sheet); `embeddedChart` puts a chart substream (BOF … EOF)
 * holding a label inside the first sheet, before its cells.
 */
export function makeXls(sheets: XlsSheet[], opts: { maxRecord?: number; biff5?: boolean; encrypted?: boolean; summary?: Parameters<typeof summaryInformation>[0]; boundSheetCopies?: number; embeddedChart?: string } = {}): Buffer {
  const max = opts.maxRecord ?? 8224;
  const biff5 = opts.biff5 === true;
  const rec = (type: number, data: Buffer): Buffer => {
    const h = Buffer.alloc(4);
    h.writeUInt16LE(type, 0);
    h.writeUInt16LE(data.length, 2);
    return Buffer.concat([h, data]);
  };
  const u16 = (v: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v, 0);
    return b;
  };
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v, 0);
    return b;
  };
  const cell = (row: number, col: number) => Buffer.concat([u16(row), u16(col), u16(15)]);
  const wide = (s: string) => [...s].some((c) => c.charCodeAt(0) > 0xff);
  const cp1258 = (s: string) => iconv.encode(toCp1258Form(s), 'windows-1258');
  const bof = (dt: number) => rec(0x0809, Buffer.concat([u16(biff5 ? 0x0500 : 0x0600), u16(dt), u16(0x0dbb), u16(0x07cc), biff5 ? Buffer.alloc(0) : Buffer.alloc(8)]));
  const eof = rec(0x000a, Buffer.alloc(0));
  const xlString = (s: string) => (wide(s) ? Buffer.concat([u16(s.length), Buffer.from([1]), Buffer.from(s, 'utf16le')]) : Buffer.concat([u16(s.length), Buffer.from([0]), Buffer.from(s, 'latin1')]));

  // Shared strings, written into records of at most `max` bytes; a string's characters run on into
  // the next CONTINUE after an option byte (whether they are UTF-16 there, decided per part).
  const strings: string[] = [];
  const sstIndex = new Map<string, number>();
  for (const sh of sheets) for (const row of sh.rows) for (const v of row) if (typeof v === 'string' && !sstIndex.has(v)) sstIndex.set(v, strings.push(v) - 1);
  const sstRecords = (): Buffer[] => {
    const parts: Buffer[][] = [[u32(strings.length), u32(strings.length)]];
    let size = 8;
    const push = (b: Buffer) => {
      parts[parts.length - 1].push(b);
      size += b.length;
    };
    const room = () => max - size;
    for (const s of strings) {
      if (room() < 3 + 2) {
        parts.push([]);
        size = 0;
      }
      let flags = wide(s) ? 1 : 0;
      push(Buffer.concat([u16(s.length), Buffer.from([flags])]));
      let rest = s;
      while (rest.length > 0) {
        const per = flags === 1 ? 2 : 1;
        const n = Math.min(rest.length, Math.floor(room() / per));
        if (n > 0) {
          push(Buffer.from(rest.slice(0, n), flags === 1 ? 'utf16le' : 'latin1'));
          rest = rest.slice(n);
        }
        if (rest.length > 0) {
          parts.push([]);
          size = 0;
          flags = wide(rest) ? 1 : 0;
          push(Buffer.from([flags]));
        }
      }
    }
    return parts.map((p, i) => rec(i === 0 ? 0x00fc : 0x003c, Buffer.concat(p)));
  };

  const sheetStream = (sh: XlsSheet): Buffer => {
    const out: Buffer[] = [bof(sh.chart ? 0x20 : 0x10)];
    if (opts.embeddedChart !== undefined && sh === sheets[0]) out.push(bof(0x20), rec(0x0204, Buffer.concat([cell(0, 0), xlString(opts.embeddedChart)])), eof);
    const rk = (v: number) => u32(((v << 2) | 2) >>> 0);
    sh.rows.forEach((row, r) => {
      for (let c = 0; c < row.length; c++) {
        const v = row[c];
        if (v === null) continue;
        if (typeof v === 'string') out.push(biff5 ? rec(0x0204, Buffer.concat([cell(r, c), u16(cp1258(v).length), cp1258(v)])) : rec(0x00fd, Buffer.concat([cell(r, c), u32(sstIndex.get(v)!)])));
        else if (typeof v === 'boolean') out.push(rec(0x0205, Buffer.concat([cell(r, c), Buffer.from([v ? 1 : 0, 0])])));
        else if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 29) {
          // A run of whole numbers: one MULRK.
          let end = c;
          while (end + 1 < row.length && typeof row[end + 1] === 'number' && Number.isInteger(row[end + 1]) && Math.abs(row[end + 1] as number) < 2 ** 29) end++;
          if (end === c) out.push(rec(0x027e, Buffer.concat([cell(r, c), rk(v)])));
          else {
            const items = row.slice(c, end + 1).map((x) => Buffer.concat([u16(15), rk(x as number)]));
            out.push(rec(0x00bd, Buffer.concat([u16(r), u16(c), ...items, u16(end)])));
            c = end;
          }
        } else if (typeof v === 'number') {
          const d = Buffer.alloc(8);
          d.writeDoubleLE(v, 0);
          out.push(rec(0x0203, Buffer.concat([cell(r, c), d])));
        } else {
          const value = Buffer.alloc(8);
          if (typeof v.formula === 'number') value.writeDoubleLE(v.formula, 0);
          else value.writeUInt16LE(0xffff, 6);
          out.push(rec(0x0006, Buffer.concat([cell(r, c), value, u16(0), u32(0), u16(0)])));
          if (typeof v.formula === 'string') out.push(rec(0x0207, biff5 ? Buffer.concat([u16(cp1258(v.formula).length), cp1258(v.formula)]) : xlString(v.formula)));
        }
      }
    });
    out.push(eof);
    return Buffer.concat(out);
  };

  const bodies = sheets.map(sheetStream);
  const boundSheet = (sh: XlsSheet, offset: number) =>
    rec(0x0085, Buffer.concat([u32(offset), Buffer.from([0, sh.chart ? 2 : 0]), biff5 ? Buffer.concat([Buffer.from([cp1258(sh.name).length]), cp1258(sh.name)]) : Buffer.concat([Buffer.from([sh.name.length, wide(sh.name) ? 1 : 0]), Buffer.from(sh.name, wide(sh.name) ? 'utf16le' : 'latin1')])]));
  const globals = (offsets: number[]) => {
    const list = sheets.map((sh, i) => boundSheet(sh, offsets[i]));
    for (let k = 0; k < (opts.boundSheetCopies ?? 0); k++) list.push(boundSheet(sheets[0], offsets[0]));
    return Buffer.concat([bof(0x05), ...(opts.encrypted ? [rec(0x002f, Buffer.alloc(6))] : []), rec(0x0042, u16(biff5 ? 1258 : 1200)), ...list, ...(biff5 ? [] : sstRecords()), eof]);
  };
  // The globals' length does not depend on the offsets: measure, then write them.
  const globalLength = globals(sheets.map(() => 0)).length;
  const offsets: number[] = [];
  let at = globalLength;
  for (const b of bodies) {
    offsets.push(at);
    at += b.length;
  }
  const stream = Buffer.concat([globals(offsets), ...bodies]);
  const cfb = CFB.utils.cfb_new();
  CFB.utils.cfb_add(cfb, biff5 ? '/Book' : '/Workbook', stream);
  if (opts.summary) CFB.utils.cfb_add(cfb, '/\u0005SummaryInformation', summaryInformation(opts.summary));
  return Buffer.from(CFB.write(cfb, { type: 'buffer' }) as Uint8Array);
}

/**
 * What a document typed in a TCVN3 (ABC) font such as .VnTime holds: the TCVN3 bytes of `s` read as
 * Windows-1252 ("Cộng hoà" → "Céng hoµ").
 */
export function asTcvn3Typed(s: string): string {
  return iconv.decode(iconv.encode(s, 'tcvn'), 'windows-1252');
}

/**
 * What a document typed in a VNI font such as VNI-Times holds, read as Windows-1252: a letter with
 * a circumflex, breve or tone is its base letter followed by a mark byte ("Việt" → "Vieät"); đ, ơ, ư
 * and the marked i/ỵ letters are one byte each.
 */
export function asVniTyped(s: string): string {
  const single: Record<string, string> = { đ: 'ñ', Đ: 'Ñ', í: 'í', Í: 'Í', ì: 'ì', Ì: 'Ì', ỉ: 'æ', Ỉ: 'Æ', ĩ: 'ó', Ĩ: 'Ó', ị: 'ò', Ị: 'Ò', ỵ: 'î', Ỵ: 'Î' };
  const TONES = ['\u0301', '\u0300', '\u0309', '\u0303', '\u0323'];
  // Mark bytes (lower case) by tone (none, acute, grave, hook, tilde, dot): circumflex, breve, plain.
  const CIRC = ['â', 'á', 'à', 'å', 'ã', 'ä'];
  const BREVE = ['ê', 'é', 'è', 'ú', 'ü', 'ë'];
  const PLAIN = ['', 'ù', 'ø', 'û', 'õ', 'ï'];
  let out = '';
  for (const ch of s.normalize('NFC')) {
    if (single[ch] !== undefined) {
      out += single[ch];
      continue;
    }
    const d = ch.normalize('NFD');
    let base = d[0];
    const marks = d.slice(1);
    if (marks === '' || !/[aeiouyAEIOUY]/.test(base)) {
      out += ch;
      continue;
    }
    const upper = base === base.toUpperCase();
    const tone = 1 + TONES.findIndex((t) => marks.includes(t));
    let mark: string;
    if (marks.includes('\u031b')) {
      // Horn: ơ and ư are letters of their own, then a plain tone mark.
      base = base.toLowerCase() === 'o' ? (upper ? 'Ô' : 'ô') : upper ? 'Ö' : 'ö';
      mark = PLAIN[tone];
    } else if (marks.includes('\u0302')) mark = CIRC[tone];
    else if (marks.includes('\u0306')) mark = BREVE[tone];
    else mark = PLAIN[tone];
    out += base + (upper ? mark.toUpperCase() : mark);
  }
  return out;
}

/**
 * A one-sheet XLSX whose rows are placed by cell reference: `rows[i]` is sheet row `firstRow + i`,
 * a null cell is left out (a gap), strings are inline strings, numbers plain values.
 */
export function makeXlsxTable(rows: Array<Array<string | number | null>>, firstRow = 1): Buffer {
  const ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const col = (i: number) => (i < 26 ? String.fromCharCode(65 + i) : String.fromCharCode(64 + Math.floor(i / 26)) + String.fromCharCode(65 + (i % 26)));
  const sheetRows = rows
    .map((cells, i) => {
      const r = firstRow + i;
      const cs = cells
        .map((v, j) => (v === null ? '' : typeof v === 'number' ? `<c r="${col(j)}${r}"><v>${v}</v></c>` : `<c r="${col(j)}${r}" t="inlineStr"><is><t>${esc(v)}</t></is></c>`))
        .join('');
      return `<row r="${r}">${cs}</row>`;
    })
    .join('');
  return Buffer.from(
    zipSync({
      '[Content_Types].xml': strToU8('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'),
      'xl/workbook.xml': strToU8(`<?xml version="1.0"?><workbook ${ns}><sheets><sheet name="Danh mục" sheetId="1" r:id="rId1"/></sheets></workbook>`),
      'xl/_rels/workbook.xml.rels': strToU8('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
      'xl/worksheets/sheet1.xml': strToU8(`<?xml version="1.0"?><worksheet ${ns}><sheetData>${sheetRows}</sheetData></worksheet>`),
    }),
  );
}

/** A small seeded pseudo-random generator (mulberry32): reproducible test data from a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
