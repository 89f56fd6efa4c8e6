/**
 * Small, defensive readers for the photo metadata blocks sharp hands back as raw buffers:
 * EXIF (TIFF IFDs), IPTC-IIM (inside a Photoshop 8BIM block or bare) and XMP (RDF/XML), and PNG's
 * own text chunks (read from the file).
 * Only the basics a catalogue needs are read; any malformed structure yields fewer fields, never a throw.
 */
import { open } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { decodeText } from '../adapters/text-encoding.ts';
import { decodeEntities, elementsOf, withoutTags } from '../xml-scan.ts';

/**
 * A text field's bytes: UTF-8 when they are (what current cameras and tools write), else read by the
 * text detector (Latin-1 "Café" of older tools, Windows-1258 or TCVN3 of Vietnamese ones), never
 * with U+FFFD in place of a letter.
 */
function fieldText(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return decodeText(bytes).text;
  }
}

export interface ExifBasics {
  dateTaken?: string;
  make?: string;
  model?: string;
  software?: string;
  artist?: string;
  copyright?: string;
  description?: string;
  /** Windows' own fields (Explorer's Properties → Details: XPTitle, XPSubject, XPComment, XPKeywords), UTF-16. */
  title?: string;
  subject?: string;
  comment?: string;
  keywords?: string[];
  orientation?: number;
  gps?: { lat: number; lon: number; alt?: number };
}

const MAX_ENTRIES = 512;

/** Reads IFD0, the Exif sub-IFD and the GPS IFD. Accepts a buffer with or without the `Exif\0\0` prefix. */
export function parseExif(buf: Buffer | undefined): ExifBasics {
  const out: ExifBasics = {};
  if (!buf || buf.length < 14) return out;
  let base = 0;
  if (buf.toString('latin1', 0, 4) === 'Exif') base = 6;
  const order = buf.toString('latin1', base, base + 2);
  if (order !== 'II' && order !== 'MM') return out;
  const le = order === 'II';
  const u16 = (o: number) => (o + 2 <= buf.length ? (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o)) : 0);
  const u32 = (o: number) => (o + 4 <= buf.length ? (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o)) : 0);
  const SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8 };

  type Entry = { type: number; count: number; valueOffset: number };
  const readIfd = (off: number): Map<number, Entry> => {
    const tags = new Map<number, Entry>();
    const start = base + off;
    if (off <= 0 || start + 2 > buf.length) return tags;
    const n = Math.min(u16(start), MAX_ENTRIES);
    for (let i = 0; i < n; i++) {
      const e = start + 2 + i * 12;
      if (e + 12 > buf.length) break;
      const type = u16(e + 2);
      const count = u32(e + 4);
      const size = (SIZES[type] ?? 1) * count;
      tags.set(u16(e), { type, count, valueOffset: size <= 4 ? e + 8 : base + u32(e + 8) });
    }
    return tags;
  };
  const str = (e: Entry | undefined) => {
    if (!e || e.type !== 2) return undefined;
    let end = Math.min(e.valueOffset + e.count, buf.length);
    // Trailing NULs are dropped by walking back over the bytes: `/\0+$/` was tried from every NUL of a
    // run that something else ends, each try scanning the rest of the run (quadratic in the count).
    while (end > e.valueOffset && buf[end - 1] === 0) end--;
    const s = fieldText(buf.subarray(e.valueOffset, end)).normalize('NFC').trim();
    return s || undefined;
  };
  // Windows' XP* tags: UTF-16LE in a BYTE array, NUL-terminated.
  const xpStr = (e: Entry | undefined) => {
    if (!e || (e.type !== 1 && e.type !== 7)) return undefined;
    let end = Math.min(e.valueOffset + e.count, buf.length);
    end -= (end - e.valueOffset) % 2;
    // Trailing NUL units dropped by walking back, as in `str` (a regex is quadratic on long runs).
    while (end - 2 >= e.valueOffset && buf[end - 1] === 0 && buf[end - 2] === 0) end -= 2;
    const s = buf.toString('utf16le', e.valueOffset, end).trim();
    return s ? s.normalize('NFC') : undefined;
  };
  const num = (e: Entry | undefined) => (e && (e.type === 3 ? u16(e.valueOffset) : e.type === 4 ? u32(e.valueOffset) : undefined));
  const rationals = (e: Entry | undefined): number[] => {
    if (!e || (e.type !== 5 && e.type !== 10)) return [];
    const vals: number[] = [];
    for (let i = 0; i < Math.min(e.count, 4); i++) {
      const o = e.valueOffset + i * 8;
      if (o + 8 > buf.length) break;
      const d = u32(o + 4);
      vals.push(d ? u32(o) / d : 0);
    }
    return vals;
  };

  const ifd0 = readIfd(u32(base + 4));
  out.make = str(ifd0.get(0x010f));
  out.model = str(ifd0.get(0x0110));
  out.software = str(ifd0.get(0x0131));
  out.artist = str(ifd0.get(0x013b));
  out.copyright = str(ifd0.get(0x8298));
  out.description = str(ifd0.get(0x010e));
  out.artist ??= xpStr(ifd0.get(0x9c9d));
  out.title = xpStr(ifd0.get(0x9c9b));
  out.subject = xpStr(ifd0.get(0x9c9f));
  out.comment = xpStr(ifd0.get(0x9c9c));
  const keywords = xpStr(ifd0.get(0x9c9e))?.split(';').map((k) => k.trim()).filter(Boolean);
  if (keywords?.length) out.keywords = keywords;
  out.orientation = num(ifd0.get(0x0112));
  const exifPtr = ifd0.get(0x8769);
  const exifIfd = exifPtr ? readIfd(u32(exifPtr.valueOffset)) : new Map<number, Entry>();
  const rawDate = str(exifIfd.get(0x9003)) ?? str(exifIfd.get(0x9004)) ?? str(ifd0.get(0x0132));
  out.dateTaken = exifDateToIso(rawDate);
  const gpsPtr = ifd0.get(0x8825);
  if (gpsPtr) {
    const gps = readIfd(u32(gpsPtr.valueOffset));
    const dms = (v: number[]) => (v.length >= 3 ? v[0] + v[1] / 60 + v[2] / 3600 : v.length ? v[0] : NaN);
    const lat = dms(rationals(gps.get(2)));
    const lon = dms(rationals(gps.get(4)));
    if (Number.isFinite(lat) && Number.isFinite(lon)) {
      const latRef = str(gps.get(1));
      const lonRef = str(gps.get(3));
      const altRef = gps.get(5) ? buf[gps.get(5)!.valueOffset] : 0;
      const alt = rationals(gps.get(6))[0];
      out.gps = {
        lat: round6(latRef === 'S' ? -lat : lat),
        lon: round6(lonRef === 'W' ? -lon : lon),
        ...(alt !== undefined ? { alt: Math.round((altRef === 1 ? -alt : alt) * 100) / 100 } : {}),
      };
    }
  }
  for (const k of Object.keys(out) as Array<keyof ExifBasics>) if (out[k] === undefined) delete out[k];
  return out;
}

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

/** `2016:07:02 07:34:02` → `2016-07-02T07:34:02` (no zone: EXIF local time). */
export function exifDateToIso(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const m = /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(s);
  if (!m || m[1] === '0000') return undefined;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`;
}

/** IFD0 tags of a TIFF file that say something about the picture (text, and orientation): those parseExif reads from IFD0. */
const TIFF_TEXT_TAGS = new Set([0x010e, 0x010f, 0x0110, 0x0112, 0x0131, 0x0132, 0x013b, 0x8298, 0x9c9b, 0x9c9c, 0x9c9d, 0x9c9e, 0x9c9f]);
/** Longest value of one such tag read (a real caption is a few hundred bytes). */
const MAX_TIFF_TAG_BYTES = 64 * 1024;

/**
 * A TIFF file's own IFD0 text tags (ImageDescription, Artist, Copyright, Windows' XP* fields…), as a
 * small TIFF structure that parseExif reads. In a TIFF these tags are in the file's first IFD, not in
 * an EXIF block, and libvips hands no EXIF block for them: a scan's caption and author were lost.
 * Only the IFD0 entries and those tags' values are read (the IFD and its values may lie after
 * hundreds of MB of pixels, as libtiff writes them), each value at most MAX_TIFF_TAG_BYTES.
 */
export async function readTiffIfd0(path: string): Promise<Buffer | undefined> {
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(8);
    if ((await fh.read(head, 0, 8, 0)).bytesRead < 8) return undefined;
    const order = head.toString('latin1', 0, 2);
    if (order !== 'II' && order !== 'MM') return undefined;
    const le = order === 'II';
    if ((le ? head.readUInt16LE(2) : head.readUInt16BE(2)) !== 42) return undefined; // not BigTIFF
    const ifdAt = le ? head.readUInt32LE(4) : head.readUInt32BE(4);
    const countBuf = Buffer.alloc(2);
    if ((await fh.read(countBuf, 0, 2, ifdAt)).bytesRead < 2) return undefined;
    const n = Math.min(le ? countBuf.readUInt16LE(0) : countBuf.readUInt16BE(0), 512);
    const entries = Buffer.alloc(n * 12);
    const got = (await fh.read(entries, 0, entries.length, ifdAt + 2)).bytesRead;
    const SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8 };
    const kept: Array<{ entry: Buffer; value: Buffer | null }> = [];
    for (let i = 0; i + 12 <= got; i += 12) {
      const e = Buffer.from(entries.subarray(i, i + 12));
      const tag = le ? e.readUInt16LE(0) : e.readUInt16BE(0);
      if (!TIFF_TEXT_TAGS.has(tag)) continue;
      const size = (SIZES[le ? e.readUInt16LE(2) : e.readUInt16BE(2)] ?? 1) * (le ? e.readUInt32LE(4) : e.readUInt32BE(4));
      if (size <= 4) {
        kept.push({ entry: e, value: null });
        continue;
      }
      const value = Buffer.alloc(Math.min(size, MAX_TIFF_TAG_BYTES));
      const r = await fh.read(value, 0, value.length, le ? e.readUInt32LE(8) : e.readUInt32BE(8));
      if (le) e.writeUInt32LE(value.length < size ? r.bytesRead : size, 4);
      else e.writeUInt32BE(value.length < size ? r.bytesRead : size, 4);
      kept.push({ entry: e, value: value.subarray(0, r.bytesRead) });
    }
    if (!kept.length) return undefined;
    // Header, IFD0 (count, entries, next = 0), then the values, each entry pointing at its own.
    const ifdLen = 2 + kept.length * 12 + 4;
    let at = 8 + ifdLen;
    const out = Buffer.alloc(8 + ifdLen + kept.reduce((t, k) => t + (k.value ? k.value.length + (k.value.length % 2) : 0), 0));
    out.write(order, 0, 'latin1');
    if (le) out.writeUInt16LE(42, 2), out.writeUInt32LE(8, 4), out.writeUInt16LE(kept.length, 8);
    else out.writeUInt16BE(42, 2), out.writeUInt32BE(8, 4), out.writeUInt16BE(kept.length, 8);
    kept.forEach((k, i) => {
      if (k.value) {
        if (le) k.entry.writeUInt32LE(at, 8);
        else k.entry.writeUInt32BE(at, 8);
        k.value.copy(out, at);
        at += k.value.length + (k.value.length % 2);
      }
      k.entry.copy(out, 10 + i * 12);
    });
    return out;
  } finally {
    await fh.close();
  }
}

export interface IptcBasics {
  objectName?: string;
  caption?: string;
  credit?: string;
  byline?: string;
  copyright?: string;
  source?: string;
  city?: string;
  country?: string;
  keywords?: string[];
  dateCreated?: string;
}

const IPTC_FIELDS: Record<number, keyof IptcBasics> = {
  5: 'objectName', 25: 'keywords', 55: 'dateCreated', 80: 'byline', 90: 'city', 101: 'country',
  110: 'credit', 115: 'source', 116: 'copyright', 120: 'caption',
};

/** Finds the IIM data (8BIM resource 0x0404) and reads record-2 datasets. */
export function parseIptc(buf: Buffer | undefined): IptcBasics {
  const out: IptcBasics = {};
  if (!buf || buf.length < 5) return out;
  let iim: Buffer | undefined;
  if (buf[0] === 0x1c) iim = buf;
  else {
    let p = buf.indexOf('8BIM', 0, 'latin1');
    while (p >= 0 && p + 12 <= buf.length) {
      const id = buf.readUInt16BE(p + 4);
      const nameLen = buf[p + 6];
      let q = p + 6 + 1 + nameLen;
      if ((1 + nameLen) % 2) q++;
      if (q + 4 > buf.length) break;
      const size = buf.readUInt32BE(q);
      const data = buf.subarray(q + 4, Math.min(q + 4 + size, buf.length));
      if (id === 0x0404) { iim = data; break; }
      p = buf.indexOf('8BIM', q + 4 + size + (size % 2), 'latin1');
    }
  }
  if (!iim) return out;
  // Coded character set (1:90) ESC % G means UTF-8; most modern writers use UTF-8 anyway. Without
  // it, bytes that are no UTF-8 are read by the text detector (Latin-1 of older tools), not as U+FFFD.
  let p = 0;
  let guard = 0;
  let utf8 = false;
  while (p + 5 <= iim.length && iim[p] === 0x1c && guard++ < 4096) {
    const record = iim[p + 1];
    const dataset = iim[p + 2];
    const len = iim.readUInt16BE(p + 3);
    if (len & 0x8000) break; // extended length: not used for the text fields we want
    const bytes = iim.subarray(p + 5, Math.min(p + 5 + len, iim.length));
    if (record === 1 && dataset === 90 && bytes.toString('latin1') === '\x1b%G') utf8 = true;
    const value = (utf8 ? bytes.toString('utf8') : fieldText(bytes)).normalize('NFC').trim();
    p += 5 + len;
    const key = record === 2 ? IPTC_FIELDS[dataset] : undefined;
    if (!key || !value) continue;
    if (key === 'keywords') (out.keywords ??= []).push(value);
    else if (key === 'dateCreated') out.dateCreated = /^\d{8}$/.test(value) ? `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6)}` : value;
    else (out as Record<string, string>)[key] = value;
  }
  return out;
}

export interface XmpBasics {
  title?: string;
  description?: string;
  creator?: string;
  rights?: string;
  credit?: string;
  createDate?: string;
  creatorTool?: string;
  rating?: number;
  subject?: string[];
}

/** Reads a few well-known XMP properties, as attributes or as (Alt/Seq/Bag) elements. */
export function parseXmp(buf: Buffer | undefined): XmpBasics {
  const out: XmpBasics = {};
  if (!buf || !buf.length) return out;
  const xml = buf.toString('utf8').slice(0, 1_000_000);
  // One pass each (xml-scan.ts): a packet of unclosed tags or quotes must not cost its length squared.
  const attrValue = (name: string): string | undefined => {
    const key = `${name}="`;
    for (let i = xml.indexOf(key); i >= 0; i = xml.indexOf(key, i + 1)) {
      if (!/\s/.test(xml[i - 1] ?? '')) continue;
      const end = xml.indexOf('"', i + key.length);
      return end < 0 ? undefined : xml.slice(i + key.length, end);
    }
    return undefined;
  };
  const values = (name: string): string[] => {
    const attr = attrValue(name);
    if (attr !== undefined) return [decodeEntities(attr).trim()].filter(Boolean);
    const el = elementsOf(xml, name).next().value;
    if (el === undefined) return [];
    const inner = xml.slice(el.inner, el.innerEnd);
    const items = [...elementsOf(inner, 'rdf:li')].map((e) => inner.slice(e.inner, e.innerEnd));
    return (items.length ? items : [inner]).map((v) => decodeEntities(withoutTags(v)).trim()).filter(Boolean);
  };
  const one = (name: string) => values(name)[0];
  out.title = one('dc:title');
  out.description = one('dc:description');
  out.creator = values('dc:creator').join('; ') || undefined;
  out.rights = one('dc:rights');
  out.credit = one('photoshop:Credit');
  out.createDate = one('xmp:CreateDate') ?? one('photoshop:DateCreated');
  out.creatorTool = one('xmp:CreatorTool');
  const rating = Number(one('xmp:Rating'));
  if (Number.isFinite(rating) && one('xmp:Rating') !== undefined) out.rating = rating;
  const subject = values('dc:subject');
  if (subject.length) out.subject = subject;
  for (const k of Object.keys(out) as Array<keyof XmpBasics>) if (out[k] === undefined) delete out[k];
  return out;
}

export interface PngTextBasics {
  title?: string;
  author?: string;
  description?: string;
  copyright?: string;
  comment?: string;
  source?: string;
  creationTime?: string;
  software?: string;
}

const PNG_KEYWORDS: Record<string, keyof PngTextBasics> = {
  Title: 'title', Author: 'author', Description: 'description', Copyright: 'copyright', Comment: 'comment',
  Source: 'source', 'Creation Time': 'creationTime', Software: 'software',
};
/** At most this many text chunks are read, each at most this long (inflated): a hostile file stays cheap. */
const MAX_PNG_TEXT_CHUNKS = 64;
const MAX_PNG_TEXT_BYTES = 64 * 1024;

/**
 * The PNG text chunks with the spec's predefined keywords (Title, Author, Description, Copyright,
 * Comment, Source, Creation Time, Software), wherever they stand among the chunks: tEXt (Latin-1,
 * which libvips hands on as UTF-8 with U+FFFD for every accented letter), zTXt (the same, deflated)
 * and iTXt (UTF-8, deflated or not). Text that is valid UTF-8 is read as such (many tools write
 * UTF-8 into tEXt), else by the text detector. Chunk headers are walked with positioned reads; only
 * text chunks are read. Any malformed structure yields fewer fields, never a throw.
 */
export async function readPngText(path: string): Promise<PngTextBasics> {
  const out: PngTextBasics = {};
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(8);
    let pos = 8;
    let seen = 0;
    while (pos + 12 <= size && seen < MAX_PNG_TEXT_CHUNKS) {
      if ((await fh.read(head, 0, 8, pos)).bytesRead < 8) break;
      const len = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (type === 'IEND' || pos + 12 + len > size) break;
      if ((type === 'tEXt' || type === 'zTXt' || type === 'iTXt') && len <= MAX_PNG_TEXT_BYTES) {
        seen++;
        const data = Buffer.alloc(len);
        await fh.read(data, 0, len, pos + 8);
        const entry = pngTextChunk(type, data);
        const key = entry && PNG_KEYWORDS[entry.keyword];
        if (key && entry.text && out[key] === undefined) out[key] = entry.text;
      }
      pos += 12 + len;
    }
  } catch {
    /* fewer fields */
  } finally {
    await fh.close();
  }
  return out;
}

function pngTextChunk(type: string, data: Buffer): { keyword: string; text: string } | null {
  const nul = data.indexOf(0);
  if (nul <= 0 || nul > 79) return null;
  const keyword = data.toString('latin1', 0, nul);
  const inflate = (b: Buffer) => inflateSync(b, { maxOutputLength: MAX_PNG_TEXT_BYTES });
  let bytes: Buffer;
  if (type === 'tEXt') bytes = data.subarray(nul + 1);
  else if (type === 'zTXt') bytes = inflate(data.subarray(nul + 2));
  else {
    // iTXt: keyword, compression flag, method, language tag\0, translated keyword\0, text (UTF-8).
    const compressed = data[nul + 1] === 1;
    const lang = data.indexOf(0, nul + 3);
    const translated = lang < 0 ? -1 : data.indexOf(0, lang + 1);
    if (translated < 0) return null;
    const raw = data.subarray(translated + 1);
    bytes = compressed ? inflate(raw) : raw;
  }
  const text = fieldText(bytes).replace(/\r\n?/g, '\n').normalize('NFC').trim();
  return { keyword, text };
}
