/**
 * Sniffing the real media type from a file's bytes — never from its name or the client's claim.
 * file-type recognises binary formats by magic numbers (and looks inside ZIP/CFB containers for
 * DOCX/ODT/DOC); text is recognised when no format matched and the head decodes as text.
 */
import { open } from 'node:fs/promises';
import { fileTypeFromBuffer, fileTypeFromFile } from 'file-type';
import { mediaTypeInfo, type MediaTypeInfo } from './media-types.ts';

/** Bytes of the head kept for sniffing while the upload streams. */
export const SNIFF_BYTES = 64 * 1024;

export type SniffResult =
  | { ok: true; info: MediaTypeInfo }
  | { ok: false; detected: string | null };

/**
 * What `detected` says for a password-protected Office Open XML file (DOCX, XLSX, PPTX…): Office
 * stores those as a compound file holding `EncryptionInfo` and `EncryptedPackage` streams
 * ([MS-OFFCRYPTO]); which format is inside cannot be known without the password.
 */
export const ENCRYPTED_OOXML = 'application/x-ooxml-encrypted';

/** Map file-type's answers onto our table (aliases and container refinements). */
function normalise(mime: string): string {
  // file-type names some types with parameters (Ogg Opus is `audio/ogg; codecs=opus`): the table has bare types.
  switch (mime.split(';')[0].trim()) {
    case 'audio/x-flac':
      return 'audio/flac';
    case 'audio/vnd.wave':
    case 'audio/x-wav':
      return 'audio/wav';
    case 'audio/x-m4a':
      return 'audio/mp4';
    case 'video/x-m4v':
      return 'video/mp4';
    // 3GPP2 (CDMA phones' .3g2): the same ISO file structure as 3GP.
    case 'video/3gpp2':
      return 'video/3gpp';
    case 'image/x-ms-bmp':
      return 'image/bmp';
    case 'video/matroska':
      return 'video/x-matroska';
    case 'video/vnd.avi':
      return 'video/x-msvideo';
    // MPEG-1 system and MPEG-2 program streams (VCD .dat/.mpg, DVD .vob).
    case 'video/MP1S':
    case 'video/MP2P':
      return 'video/mpeg';
    // Windows Media (ASF): file-type names the stream kind it found in the header; a header it could
    // not read to the end is called video (ffprobe then finds what the streams are).
    case 'video/x-ms-asf':
    case 'application/vnd.ms-asf':
      return 'video/x-ms-wmv';
    case 'text/rtf':
      return 'application/rtf';
    case 'audio/x-ms-asf':
      return 'audio/x-ms-wma';
    case 'image/apng':
      return 'image/png';
    case 'image/heic-sequence':
      return 'image/heic';
    case 'image/heif-sequence':
      return 'image/heif';
    case 'application/x-cfb':
      return 'application/x-cfb';
    default:
      return mime.split(';')[0].trim();
  }
}

/**
 * A text file may hold a few stray NUL bytes (a bad editor, a copy cut short and padded): at most
 * one per STRAY_NUL_SPAN bytes of the head, each alone (no two in a row) and none in its first
 * STRAY_NUL_FREE_HEAD bytes, where binary formats keep their magic numbers and header fields. The
 * text extractor drops them (`paginate`). Binary data has NULs in runs, in its header or far more often.
 */
export const STRAY_NUL_SPAN = 4096;
export const STRAY_NUL_FREE_HEAD = 64;

/**
 * Text when the head has no NUL bytes (except UTF-16, or a few stray ones: STRAY_NUL_SPAN), and almost no control characters.
 * A lone truncated multi-byte sequence at the very end of the head is allowed.
 */
export function looksLikeText(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) return true;
  let control = 0;
  let nuls = 0;
  for (let i = 0; i < head.length; i++) {
    const b = head[i];
    if (b === 0) {
      // UTF-16 has NULs everywhere; otherwise a NUL is allowed only as a stray byte in text (STRAY_NUL_SPAN).
      if (nuls === 0 && bomlessUtf16(head) !== null) return true;
      if (i < STRAY_NUL_FREE_HEAD || head[i - 1] === 0 || head[i + 1] === 0) return false;
      if (++nuls > Math.max(1, Math.floor(head.length / STRAY_NUL_SPAN))) return false;
      continue;
    }
    if (b < 0x09 || (b > 0x0d && b < 0x20 && b !== 0x1b)) control++;
  }
  if (control > head.length / 100) return false;
  // Refuse markup that browsers would run: HTML and SVG are never stored as text, also after an XML
  // declaration, comments or a DOCTYPE (an SVG that starts with `<!-- bản đồ -->` was stored as text).
  return !isActiveMarkup(new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(0, 4096)));
}

/** Whether text starts (after whitespace, a BOM, XML declarations and comments) as HTML or SVG. */
export function isActiveMarkup(text: string): boolean {
  let s = text.replace(/^\uFEFF/, '');
  for (;;) {
    s = s.trimStart();
    const close = s.startsWith('<!--') ? s.indexOf('-->', 4) : s.startsWith('<?xml') ? s.indexOf('?>', 5) : -2;
    if (close === -2) break;
    // An unclosed comment or declaration at the head: whatever follows it is not known, refuse.
    if (close < 0) return true;
    s = s.slice(close + (s.startsWith('<!--') ? 3 : 2));
  }
  return /^(<!doctype\s+(html|svg)|<html|<svg|<script|<(\w+:)?svg[\s>])/i.test(s);
}

/**
 * file-type's weakest signatures: "BM" for BMP, "ID3" or a frame sync for MPEG audio. A text that
 * happens to start so ("BM-01: Biểu mẫu…") is text: the real formats always have NUL or control
 * bytes in their first bytes (BMP's reserved fields, ID3's version, compressed frames).
 */
const WEAK_SIGNATURES = new Set(['image/bmp', 'audio/mpeg']);

async function finish(mime: string | undefined, head: Uint8Array): Promise<SniffResult> {
  if (mime !== undefined && WEAK_SIGNATURES.has(normalise(mime)) && looksLikeText(head)) mime = undefined;
  if (mime === undefined) {
    if (looksLikeText(head)) return { ok: true, info: mediaTypeInfo('text/plain')! };
    return { ok: false, detected: null };
  }
  const info = mediaTypeInfo(normalise(mime));
  return info ? { ok: true, info } : { ok: false, detected: mime };
}

/**
 * Text in UTF-16 with a byte order mark (Windows Notepad's "Unicode"). file-type takes the
 * little-endian BOM FF FE for an MPEG audio frame sync, so this is decided first: the head must
 * decode to text (almost no control characters, no broken surrogates), which audio frames do not.
 */
export function isUtf16Text(head: Uint8Array): boolean {
  const le = head[0] === 0xff && head[1] === 0xfe;
  const be = head[0] === 0xfe && head[1] === 0xff;
  if (!(le || be) || head.length < 4) return false;
  const n = Math.min(head.length, 8 * 1024) & ~1;
  const text = new TextDecoder(le ? 'utf-16le' : 'utf-16be', { fatal: false }).decode(head.subarray(2, n));
  let bad = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c === 0xfffd || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d) || (c >= 0xd800 && c <= 0xdfff)) bad++;
  }
  // A cut surrogate pair or character at the end of the head is allowed.
  return text.length > 0 && bad <= 1 + text.length / 100;
}

/**
 * Text in UTF-16 without a byte order mark (some export tools and .NET's `Encoding.Unicode`), or null.
 * Its ASCII characters (spaces, digits, most Vietnamese letters' bases) have a 00 high byte, so one
 * byte position of each pair is often 00 and the other seldom is (a combining mark U+03xx or a
 * letter U+1Exx/U+01xx has a 00 *low* byte only rarely); the head must then decode to text: letters,
 * marks, digits, punctuation and spaces, no broken surrogates, almost no control characters. Binary
 * data with 16-bit units (quiet PCM samples, zeros, tables) fails one of these.
 */
export function bomlessUtf16(head: Uint8Array): 'utf-16le' | 'utf-16be' | null {
  const n = Math.min(head.length, 8 * 1024) & ~1;
  if (n < 4) return null;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < n; i += 2) {
    if (head[i] === 0) even++;
    if (head[i + 1] === 0) odd++;
  }
  const pairs = n / 2;
  const enc = odd >= pairs * 0.3 && even <= odd / 4 ? 'utf-16le' : even >= pairs * 0.3 && odd <= even / 4 ? 'utf-16be' : null;
  if (enc === null) return null;
  const text = new TextDecoder(enc, { fatal: false }).decode(head.subarray(0, n));
  let bad = 0;
  let chars = 0;
  for (const ch of text) {
    chars++;
    const c = ch.codePointAt(0)!;
    if (c === 0xfffd || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d) || (c >= 0xd800 && c <= 0xdfff) || !/[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}\t\n\f\r]/u.test(ch)) bad++;
  }
  // A cut surrogate pair or character at the end of the head is allowed.
  return bad <= 1 + chars / 100 ? enc : null;
}

/** Is the head alone enough to decide? ZIP and CFB containers need the whole file (DOCX, ODT, DOC), and so do ISO media files (their track list may be at the end). */
export function needsWholeFile(mime: string | undefined): boolean {
  return mime === 'application/zip' || mime === 'application/x-cfb' || (mime !== undefined && (ISO_MEDIA.has(normalise(mime)) || MATROSKA.has(normalise(mime))));
}

/** Matroska and WebM: their DocType says nothing of whether the file holds a picture. */
const MATROSKA = new Set(['video/webm', 'video/x-matroska']);

/** The ISO base media file family (MP4, QuickTime, 3GP, M4A): the brand says little about what the file holds. */
const ISO_MEDIA = new Set(['video/mp4', 'video/quicktime', 'video/3gpp', 'audio/mp4']);

/**
 * Most box headers read to list an ISO media file's tracks: a bound on the time spent on a file
 * with a pathological box tree (a real film's `moov` has a few dozen boxes on the path walked here).
 */
const MAX_ISO_BOX_READS = 10_000;

/**
 * The handler types (`vide`, `soun`, `text`, `hint`, `meta`…) of the tracks of an ISO media file,
 * from `moov/trak/mdia/hdlr`; null when no `moov` is found (cut, not ISO, too many boxes).
 * Boxes are walked on disk by their headers, each level by its children's sizes, so only those
 * headers and the `hdlr` boxes are read: a `moov` of any size (a long film's sample tables, `stbl`,
 * can be hundreds of MB) is passed over without being buffered. A box cut short by the end of its
 * parent or of the file is read as far as it goes.
 */
export async function isoTrackHandlers(path: string): Promise<Set<string> | null> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    let reads = 0;
    const hdr = Buffer.alloc(16);
    /** The boxes directly inside [from, to): their type and body range. */
    async function* children(from: number, to: number): AsyncGenerator<{ type: string; body: number; end: number }> {
      for (let at = from; at + 8 <= to; ) {
        if (++reads > MAX_ISO_BOX_READS) throw new TooManyBoxes();
        const { bytesRead } = await fh.read(hdr, 0, Math.min(16, to - at), at);
        const box = boxHeader(hdr.subarray(0, bytesRead), 0, to - at);
        if (box === null) return;
        yield { type: box.type, body: at + box.headerSize, end: Math.min(at + box.boxSize, to) };
        at += box.boxSize;
      }
    }
    try {
      for await (const top of children(0, size)) {
        if (top.type !== 'moov') continue;
        const handlers = new Set<string>();
        for await (const trak of children(top.body, top.end)) {
          if (trak.type !== 'trak') continue;
          for await (const mdia of children(trak.body, trak.end)) {
            if (mdia.type !== 'mdia') continue;
            for await (const hdlr of children(mdia.body, mdia.end)) {
              // hdlr: version and flags (4), pre_defined (4), handler_type (4).
              if (hdlr.type !== 'hdlr' || hdlr.end - hdlr.body < 12) continue;
              const t = Buffer.alloc(4);
              await fh.read(t, 0, 4, hdlr.body + 8);
              handlers.add(t.toString('latin1'));
            }
          }
        }
        return handlers;
      }
      return null;
    } catch (e) {
      if (e instanceof TooManyBoxes) return null;
      throw e;
    }
  } finally {
    await fh.close();
  }
}

class TooManyBoxes extends Error {}

/**
 * The ISO box header at `at` in `b`: its type, size (a 64-bit `largesize` when the 32-bit size is 1;
 * "to the end", `left` bytes, when it is 0) and header length; null when cut short or inconsistent.
 */
function boxHeader(b: Buffer, at: number, left: number): { type: string; boxSize: number; headerSize: number } | null {
  if (at + 8 > b.length) return null;
  let boxSize = b.readUInt32BE(at);
  let headerSize = 8;
  if (boxSize === 1) {
    if (at + 16 > b.length) return null;
    boxSize = Number(b.readBigUInt64BE(at + 8));
    headerSize = 16;
  } else if (boxSize === 0) boxSize = left;
  return boxSize < headerSize ? null : { type: b.toString('latin1', at + 4, at + 8), boxSize, headerSize };
}

/**
 * An ISO media file's type from its tracks: sound without picture is audio (an AAC recording a phone
 * saved as .mp4 or .3gp, a podcast's .m4b), a picture track makes it video (an `M4A`-branded file
 * with a video track too). Without a readable track list, the brand's answer stands.
 */
async function isoMediaByTracks(path: string, mime: string): Promise<string> {
  const handlers = await isoTrackHandlers(path);
  if (handlers === null) return mime;
  if (handlers.has('vide')) return mime === 'audio/mp4' ? 'video/mp4' : mime;
  if (handlers.has('soun')) return mime === 'video/3gpp' ? 'audio/3gpp' : 'audio/mp4';
  return mime;
}

/** Most EBML element headers read to find a Matroska file's track list (see MAX_ISO_BOX_READS). */
const MAX_EBML_READS = 10_000;
/** Largest `Tracks` element read (a real one is a few hundred bytes per track, codec private data included). */
const MAX_EBML_TRACKS_BYTES = 4 * 1024 * 1024;

/** An EBML variable-length integer at `at`: its length and value (the length marker kept for IDs, removed for sizes; null value for "unknown size"). */
function ebmlVint(b: Buffer, at: number, keepMarker: boolean): { len: number; value: number | null } | null {
  if (at >= b.length) return null;
  const first = b[at];
  if (first === 0) return null;
  const len = Math.clz32(first) - 23;
  if (len > 8 || at + len > b.length) return null;
  let value = keepMarker ? first : first & (0xff >> len);
  let allOnes = value === (0xff >> len);
  for (let i = 1; i < len; i++) {
    value = value * 256 + b[at + i];
    if (b[at + i] !== 0xff) allOnes = false;
  }
  return { len, value: !keepMarker && allOnes ? null : value };
}

/**
 * The track types (1 video, 2 audio, 17 subtitles…) of a Matroska or WebM file, from
 * `Segment/Tracks/TrackEntry/TrackType`; null when no track list is found before the first cluster
 * (cut, damaged, or a pathological element tree). As for ISO media, the top-level elements of the
 * segment are walked on disk by their headers, so only those and the `Tracks` element are read.
 */
export async function matroskaTrackTypes(path: string): Promise<Set<number> | null> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const hdr = Buffer.alloc(12);
    let reads = 0;
    /** The element at `at`: its ID, body start and end (null size: to `to`). */
    const element = async (at: number, to: number) => {
      if (++reads > MAX_EBML_READS) return null;
      const { bytesRead } = await fh.read(hdr, 0, Math.min(12, to - at), at);
      const b = hdr.subarray(0, bytesRead);
      const id = ebmlVint(b, 0, true);
      if (id === null || id.len > 4) return null;
      const sz = ebmlVint(b, id.len, false);
      if (sz === null) return null;
      const body = at + id.len + sz.len;
      return { id: id.value as number, body, end: sz.value === null ? to : Math.min(to, body + sz.value), unknownSize: sz.value === null };
    };
    let segment = null;
    for (let at = 0; at < size; ) {
      const e = await element(at, size);
      if (e === null) return null;
      if (e.id === 0x18538067) {
        segment = e;
        break;
      }
      if (e.unknownSize) return null;
      at = e.end;
    }
    if (segment === null) return null;
    for (let at = segment.body; at < segment.end; ) {
      const e = await element(at, segment.end);
      if (e === null || e.id === 0x1f43b675) return null; // a cluster: no track list before the media
      if (e.id === 0x1654ae6b) {
        const len = Math.min(e.end - e.body, MAX_EBML_TRACKS_BYTES);
        const tracks = Buffer.alloc(len);
        const { bytesRead } = await fh.read(tracks, 0, len, e.body);
        const types = new Set<number>();
        // Tracks → TrackEntry (AE) → TrackType (83), walked in memory.
        for (let t = 0; t < bytesRead; ) {
          const id = ebmlVint(tracks, t, true);
          const sz = id && ebmlVint(tracks, t + id.len, false);
          if (!id || !sz || sz.value === null) break;
          const body = t + id.len + sz.len;
          const end = Math.min(bytesRead, body + sz.value);
          if (id.value === 0xae) {
            for (let c = body; c < end; ) {
              const cid = ebmlVint(tracks, c, true);
              const csz = cid && ebmlVint(tracks, c + cid.len, false);
              if (!cid || !csz || csz.value === null) break;
              const cb = c + cid.len + csz.len;
              if (cid.value === 0x83 && csz.value >= 1 && csz.value <= 8 && cb + csz.value <= end) types.add(tracks.readUIntBE(cb + csz.value - Math.min(csz.value, 6), Math.min(csz.value, 6)));
              c = cb + csz.value;
            }
          }
          t = end;
        }
        return types;
      }
      if (e.unknownSize) return null;
      at = e.end;
    }
    return null;
  } finally {
    await fh.close();
  }
}

/**
 * A Matroska or WebM file's type from its tracks: sound without a picture is audio (a `.weba`/`.webm`
 * Opus download, a `.mka` recording), as for ISO media. Without a readable track list, the DocType's answer stands.
 */
async function matroskaMediaByTracks(path: string, mime: string): Promise<string> {
  const types = await matroskaTrackTypes(path);
  if (types === null || types.has(1) || !types.has(2)) return mime;
  return mime === 'video/webm' ? 'audio/webm' : 'audio/x-matroska';
}

/**
 * A TIFF header (`II*\0` or `MM\0*`). file-type reads the first IFD to tell TIFF from the camera
 * raw formats built on it; writers often put that IFD after the image data, past the head.
 */
function isTiffHeader(head: Uint8Array): boolean {
  return head.length >= 4 && ((head[0] === 0x49 && head[1] === 0x49 && head[2] === 0x2a && head[3] === 0) || (head[0] === 0x4d && head[1] === 0x4d && head[2] === 0 && head[3] === 0x2a));
}

/** Sniff from the head of an upload in flight. Returns `pending` when the container needs the whole file. */
export async function sniffHead(head: Uint8Array): Promise<SniffResult | 'pending'> {
  if (isUtf16Text(head)) return finish(undefined, head);
  const ft = await fileTypeFromBuffer(head);
  if (ft && needsWholeFile(ft.mime)) return 'pending';
  // A TIFF whose first IFD lies past the head: decide from the whole file.
  if (ft === undefined && head.length >= SNIFF_BYTES && isTiffHeader(head)) return 'pending';
  if (ft === undefined && head.length >= SNIFF_BYTES) {
    // A large head with no magic: text or unknown; decide now.
    return finish(undefined, head);
  }
  return finish(ft?.mime, head);
}

/** Sniff from a complete file on disk. */
export async function sniffFile(path: string, head: Uint8Array): Promise<SniffResult> {
  if (isUtf16Text(head)) return finish(undefined, head);
  const ft = await fileTypeFromFile(path);
  if (ft?.mime === 'application/x-cfb') {
    // OLE compound file: Word 97-2003 has a "WordDocument" stream named in its directory,
    // PowerPoint 97-2003 a "PowerPoint Document" stream, Excel 97-2003 a "Workbook" stream (Excel
    // 5/95: "Book"). Checked in that order: a deck or document with an embedded chart also holds a
    // Workbook stream, inside the storage of the embedded object.
    const names = await cfbStreamNames(path, ['WordDocument', 'PowerPoint Document', 'Workbook', 'Book', 'EncryptionInfo', 'EncryptedPackage']);
    if (names.has('WordDocument')) return finish('application/msword', head);
    if (names.has('PowerPoint Document')) return finish('application/vnd.ms-powerpoint', head);
    if (names.has('Workbook') || names.has('Book')) return finish('application/vnd.ms-excel', head);
    if (names.has('EncryptionInfo') && names.has('EncryptedPackage')) return { ok: false, detected: ENCRYPTED_OOXML };
    return finish(ft.mime, head);
  }
  if (ft !== undefined && ISO_MEDIA.has(normalise(ft.mime))) return finish(await isoMediaByTracks(path, normalise(ft.mime)), head);
  if (ft !== undefined && MATROSKA.has(normalise(ft.mime))) return finish(await matroskaMediaByTracks(path, normalise(ft.mime)), head);
  return finish(ft?.mime, head);
}

/**
 * Which of `names` a compound file's directory holds. The directory's first sector (named in the
 * header; writers often put it near the end of a large file) and the first 4 MiB are searched for
 * each name as the directory stores it (UTF-16LE).
 */
async function cfbStreamNames(path: string, names: string[]): Promise<Set<string>> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const regions: Buffer[] = [];
    const buf = Buffer.alloc(Math.min(size, 4 * 1024 * 1024));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    regions.push(buf.subarray(0, bytesRead));
    if (bytesRead >= 0x34) {
      const sectorSize = 2 ** buf.readUInt16LE(0x1e);
      const dirStart = (buf.readUInt32LE(0x30) + 1) * sectorSize;
      if (sectorSize >= 128 && sectorSize <= 65536 && dirStart + 128 <= size) {
        const dir = Buffer.alloc(Math.min(64 * 1024, size - dirStart));
        const r = await fh.read(dir, 0, dir.length, dirStart);
        regions.push(dir.subarray(0, r.bytesRead));
      }
    }
    return new Set(names.filter((n) => regions.some((b) => b.includes(Buffer.from(n, 'utf16le')))));
  } finally {
    await fh.close();
  }
}

/**
 * Sniff a file already on disk (a stored blob) the way an upload of it is sniffed: from its first
 * SNIFF_BYTES, and from the whole file when the head leaves it open (containers, ISO media).
 */
export async function sniffStoredFile(path: string): Promise<SniffResult> {
  const fh = await open(path, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  const r = await sniffHead(head);
  return r === 'pending' ? sniffFile(path, head) : r;
}
