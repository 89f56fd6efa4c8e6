/**
 * The only module that calls mammoth, fflate, fast-xml-parser, word-extractor and cfb: reading ZIP
 * containers (DOCX, ODT, PPTX, ODP, EPUB), small XML parts, DOCX and .doc text, and the streams of
 * compound files (.doc, .ppt). The formats' own structure is read by the extractors
 * (office-markup.ts, ppt.ts, epub.ts, rtf.ts).
 *
 * ZIP entries are read with a streaming inflater that stops an entry past MAX_ENTRY_BYTES (and all
 * of them past MAX_TOTAL_BYTES), whatever their headers claim (decompression bombs); mammoth reads
 * the parts through them too (docxText).
 */
import { createRequire } from 'node:module';
import { Unzip, UnzipInflate } from 'fflate';
import { XMLParser } from 'fast-xml-parser';
import mammoth from 'mammoth';
import { PermanentExtractError } from '../extractors/types.ts';
import { withoutDoctype, xmlText } from '../xml-scan.ts';

const require = createRequire(import.meta.url);

/**
 * Largest decompressed size of one ZIP entry we read. mammoth builds a DOM of document.xml, which
 * costs several times its size, so this stays well under the worker's memory cap.
 */
export const MAX_ENTRY_BYTES = 48 * 1024 * 1024;

/** Bytes of the archive handed to the inflater at a time (see readZipEntries). */
const ZIP_PIECE = 16 * 1024;

/** Largest decompressed size of all the entries read from one archive together (a deck of many slides). */
export const MAX_TOTAL_BYTES = 160 * 1024 * 1024;

/** Decompresses the wanted entries of a ZIP, each capped at maxBytes and all together at maxTotal. Missing entries are absent from the map. */
export function readZipEntries(zip: Uint8Array, wanted: (name: string) => boolean, maxBytes = MAX_ENTRY_BYTES, maxTotal = MAX_TOTAL_BYTES): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let failure: PermanentExtractError | null = null;
  let all = 0;
  const unzip = new Unzip((file) => {
    if (failure || !wanted(file.name) || out.has(file.name)) return;
    const chunks: Uint8Array[] = [];
    let total = 0;
    file.ondata = (err, chunk, final) => {
      if (failure) return;
      if (err) {
        failure = new PermanentExtractError('OFFICE_MALFORMED', `The document archive is damaged (${file.name}: ${err.message})`);
        return;
      }
      total += chunk.length;
      all += chunk.length;
      if (all > maxTotal) {
        failure = new PermanentExtractError('OFFICE_TOO_LARGE', `The document's parts expand to more than ${maxTotal} bytes (decompression bomb?)`);
        file.terminate();
        return;
      }
      if (total > maxBytes) {
        failure = new PermanentExtractError('OFFICE_TOO_LARGE', `${file.name} expands to more than ${maxBytes} bytes (decompression bomb?)`);
        file.terminate();
        return;
      }
      chunks.push(chunk);
      if (final) {
        const all = new Uint8Array(total);
        let o = 0;
        for (const c of chunks) {
          all.set(c, o);
          o += c.length;
        }
        out.set(file.name, all);
      }
    };
    try {
      file.start();
    } catch (err) {
      failure = new PermanentExtractError('OFFICE_MALFORMED', `Unsupported compression in ${file.name}: ${(err as Error).message}`);
    }
  });
  unzip.register(UnzipInflate);
  try {
    // In pieces: given the whole archive at once, fflate handles entry after entry in nested calls
    // and overflows the stack past ~2,000 entries (a deck of a thousand slides, a book of many images).
    for (let at = 0; at < zip.length || at === 0; at += ZIP_PIECE) {
      unzip.push(zip.subarray(at, at + ZIP_PIECE), at + ZIP_PIECE >= zip.length);
      if (failure) break;
    }
  } catch (err) {
    if (!failure) failure = new PermanentExtractError('OFFICE_MALFORMED', `The document archive is damaged: ${(err as Error).message}`);
  }
  if (failure) throw failure;
  return out;
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true, parseTagValue: false, processEntities: true, htmlEntities: true });

/**
 * Parses small XML (document properties) to a plain object; {} when unparseable. OOXML and ODF
 * never use a DTD, so any DOCTYPE is dropped first (no entity-expansion tricks).
 */
export function parseXml(bytes: Uint8Array | undefined): Record<string, unknown> {
  if (!bytes) return {};
  try {
    return xml.parse(withoutDoctype(xmlText(bytes))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** A DOCX's XML parts (every `.xml` and `.rels` entry, through the capped inflater) and the names of all its entries. */
export function docxXmlParts(zip: Uint8Array): { parts: Map<string, Uint8Array>; names: Set<string> } {
  const names = new Set<string>();
  const parts = readZipEntries(zip, (n) => {
    names.add(n);
    return /\.(xml|rels)$/i.test(n);
  });
  return { parts, names };
}

/**
 * Raw text of a DOCX (paragraphs on their own lines) via mammoth. mammoth reads the package through
 * the file object given here, not its own unzip: XML parts come from `docxXmlParts` (so the zip-bomb
 * caps hold) decoded by `xmlText` (a UTF-16 part is read; mammoth decodes every part as UTF-8), any
 * other entry is inflated, capped, when asked for.
 */
export async function docxText(zip: Buffer, xmlParts = docxXmlParts(zip)): Promise<string> {
  const { parts, names } = xmlParts;
  const file = {
    exists: (name: string) => names.has(name),
    read: async (name: string, encoding?: string) => {
      const bytes = parts.get(name) ?? readZipEntries(zip, (n) => n === name).get(name);
      if (bytes === undefined) throw new Error(`${name} is missing from the package`);
      if (encoding === 'base64') return Buffer.from(bytes).toString('base64');
      if (encoding) return xmlText(bytes);
      return bytes;
    },
  };
  try {
    const r = await mammoth.extractRawText({ file } as unknown as { buffer: Buffer });
    return r.value;
  } catch (err) {
    // mammoth walks the XML recursively: elements nested tens of thousands deep (a hostile file)
    // overflow the stack, and "Maximum call stack size exceeded" would tell an archivist nothing.
    if (err instanceof RangeError) throw new PermanentExtractError('OFFICE_MALFORMED', 'The DOCX could not be read: its elements are nested too deeply');
    throw new PermanentExtractError('OFFICE_MALFORMED', `The DOCX could not be read: ${(err as Error).message}`);
  }
}

interface WordExtractorDoc {
  getBody(opts?: { filterUnicode?: boolean }): string;
  getFootnotes(opts?: { filterUnicode?: boolean }): string;
  getEndnotes(opts?: { filterUnicode?: boolean }): string;
  getAnnotations(opts?: { filterUnicode?: boolean }): string;
  getHeaders(opts?: { includeFooters?: boolean }): string;
}

/**
 * Body text of a legacy Word 97–2003 .doc via word-extractor, and its footnotes, endnotes and
 * comments (annotations), with their typographic characters as written (word-extractor by default
 * turns curly quotes and dashes into ASCII).
 */
export async function legacyDocText(file: Buffer): Promise<{ body: string; footnotes: string; endnotes: string; comments: string }> {
  const WordExtractor = require('word-extractor') as new () => { extract(input: string | Buffer): Promise<WordExtractorDoc> };
  try {
    const doc = await new WordExtractor().extract(file);
    const opts = { filterUnicode: false };
    return { body: doc.getBody(opts), footnotes: doc.getFootnotes(opts), endnotes: doc.getEndnotes(opts), comments: doc.getAnnotations(opts) };
  } catch (err) {
    throw new PermanentExtractError('DOC_NOT_EXTRACTED', `Text of this Word 97–2003 file could not be extracted: ${(err as Error).message}`);
  }
}

/**
 * The named streams of a compound file (OLE2/CFB: .doc, .ppt), those present; OFFICE_MALFORMED
 * when the file is not a readable compound file.
 */
export function compoundStreams(file: Buffer, names: string[]): Map<string, Buffer> {
  const CFB = require('cfb') as { read(d: Buffer, o: { type: 'buffer' }): unknown; find(c: unknown, p: string): { content?: Uint8Array | number[] } | null };
  let doc: unknown;
  try {
    doc = CFB.read(file, { type: 'buffer' });
  } catch (err) {
    throw new PermanentExtractError('OFFICE_MALFORMED', `The compound file could not be read: ${(err as Error).message}`);
  }
  const out = new Map<string, Buffer>();
  for (const name of names) {
    const content = CFB.find(doc, name)?.content;
    if (content && content.length > 0) out.set(name, Buffer.from(content as Uint8Array));
  }
  return out;
}
