/**
 * Plain-text extractor.
 *
 * Metadata keys: `encoding` (utf-8, ascii, utf-16le/be, windows-1258, tcvn, viscii, windows-125x…),
 * `bom`, `encodingConfidence` (0–1), `lines`, `chars`, `truncated` (true when only the first
 * MAX_TEXT_BYTES were read).
 *
 * Text: kept verbatim apart from NFC, LF line ends and NUL removal; split into pages at form feeds; without them, long text is cut at line ends into pages
 * of about PAGE_CHARS characters so search can point into it. No thumbnail (placeholder).
 * Failures: EMPTY_FILE.
 */
import { open } from 'node:fs/promises';
import { decodeBytes, decodeText, plausibility, readLegacyVietnamese } from '../adapters/text-encoding.ts';
import { assertNotEmpty } from './common.ts';
import type { ExtractedPage, ExtractInput, ExtractResult, Extractor } from './types.ts';

/** Bytes of a text file read (decoding, NFC and pages make several copies: keep well under the memory cap). */
export const MAX_TEXT_BYTES = 32 * 1024 * 1024;
export const PAGE_CHARS = 100_000;

/** At most this many pages from form feeds (as for a PDF); the text past them is kept on the last page. */
export const MAX_TEXT_PAGES = 10_000;

/** Form feeds make pages; otherwise pages of about `pageChars`, cut at a line end. */
export function paginate(text: string, pageChars = PAGE_CHARS): ExtractedPage[] {
  const chunks = text.includes('\f') ? text.split('\f') : [];
  // A file of form feeds (32 MB of "x\f" made 16 million pages, a row and an object each): the
  // pages past the cap become one last page, form feeds as line ends.
  if (chunks.length > MAX_TEXT_PAGES) chunks.splice(MAX_TEXT_PAGES - 1, chunks.length, chunks.slice(MAX_TEXT_PAGES - 1).join('\n'));
  if (!chunks.length) {
    let rest = text;
    while (rest.length > pageChars) {
      let cut = rest.lastIndexOf('\n', pageChars);
      if (cut < pageChars / 2) cut = pageChars;
      chunks.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    chunks.push(rest);
  }
  // Plain text is kept as written (only NFC, LF line ends and no NULs), so it matches the source.
  return chunks.map((t, i) => ({ page: i + 1, text: t.normalize('NFC').replace(/\u0000/g, '') }));
}

export const textExtractor: Extractor = {
  kind: 'text',

  async extract(input: ExtractInput): Promise<ExtractResult> {
    const size = await assertNotEmpty(input);
    const fh = await open(input.path, 'r');
    let buf: Buffer;
    try {
      buf = Buffer.alloc(Math.min(size, MAX_TEXT_BYTES));
      await fh.read(buf, 0, buf.length, 0);
      if (size > MAX_TEXT_BYTES) {
        // Cut at a line end so a multi-byte character is not split in half.
        const nl = buf.lastIndexOf(0x0a);
        if (nl > 0) buf = buf.subarray(0, nl + 1);
      }
    } finally {
      await fh.close();
    }
    let decoded = decodeText(buf);
    // Text saved from a TCVN3 or VNI font through Windows-1252 (VNI files read as Windows-1252, or
    // such text later converted to UTF-8): its lines read in that encoding.
    let legacy = readLegacyVietnamese(decoded.text.replace(/\r\n?/g, '\n'));
    // chardet often takes VNI bytes for Windows-1258, where the bytes of VNI's ị, ĩ, ì, Ị… (F2, F3,
    // EC, D2…) are combining tone marks and those of its marks õ, Õ, Ã are ơ, Ơ, Ă: such lines no longer
    // read back as Windows-1252 and stayed garbled ("ḷch söû" for "lịch sử"). So an 8-bit reading
    // other than Windows-1252 is compared with the Windows-1252 one read as TCVN3/VNI.
    if (!decoded.bom && !/^(utf-|ascii$|windows-1252$|iso-8859-1$|latin1$)/.test(decoded.encoding)) {
      const alt = readLegacyVietnamese(decodeBytes(buf, 'windows-1252').normalize('NFC').replace(/\r\n?/g, '\n'));
      if (alt.tcvn3 + alt.vni > legacy.tcvn3 + legacy.vni && plausibility(alt.text) > plausibility(legacy.text)) {
        decoded = { ...decoded, encoding: 'windows-1252', confidence: 0 };
        legacy = alt;
      }
    }
    const text = legacy.text;
    const pages = paginate(text);
    return {
      metadata: {
        encoding: decoded.encoding,
        ...(legacy.tcvn3 + legacy.vni > 0 ? { legacyFont: legacy.vni > legacy.tcvn3 ? 'vni' : 'tcvn3', legacyLines: legacy.tcvn3 + legacy.vni } : {}),
        bom: decoded.bom,
        encodingConfidence: Math.round(decoded.confidence * 100) / 100,
        lines: text ? text.split('\n').length - (text.endsWith('\n') ? 1 : 0) : 0,
        chars: text.length - (text.match(/[\uD800-\uDBFF]/g)?.length ?? 0),
        ...(size > MAX_TEXT_BYTES ? { truncated: true } : {}),
      },
      pages,
    };
  },

  async thumbnail() {
    return { derivatives: [], note: 'no picture for this kind' };
  },
};
