/**
 * The only module that calls mammoth, fflate, fast-xml-parser and word-extractor.
 *
 * ZIP containers (DOCX, ODT) are read with a streaming inflater that stops an entry past
 * MAX_ENTRY_BYTES, whatever its header claims (decompression bombs); mammoth only sees a file
 * whose main part passed that check.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Unzip, UnzipInflate, strFromU8 } from 'fflate';
import { XMLParser } from 'fast-xml-parser';
import mammoth from 'mammoth';
import { PermanentExtractError } from '../extractors/types.ts';

const require = createRequire(import.meta.url);

/**
 * Largest decompressed size of one ZIP entry we read. mammoth builds a DOM of document.xml, which
 * costs several times its size, so this stays well under the worker's memory cap.
 */
export const MAX_ENTRY_BYTES = 48 * 1024 * 1024;

/** Decompresses the wanted entries of a ZIP, each capped at maxBytes. Missing entries are absent from the map. */
export function readZipEntries(zip: Uint8Array, wanted: (name: string) => boolean, maxBytes = MAX_ENTRY_BYTES): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let failure: PermanentExtractError | null = null;
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
    unzip.push(zip, true);
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
    return xml.parse(strFromU8(bytes).replace(/<!DOCTYPE[\s\S]*?(\[[\s\S]*?\]\s*)?>/i, '')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Raw text of a DOCX (paragraphs on their own lines) via mammoth. */
export async function docxText(zip: Buffer): Promise<string> {
  try {
    const r = await mammoth.extractRawText({ buffer: zip });
    return r.value;
  } catch (err) {
    throw new PermanentExtractError('OFFICE_MALFORMED', `The DOCX could not be read: ${(err as Error).message}`);
  }
}

/** Text of an ODF content.xml: paragraphs/headings on lines, tabs, line breaks and repeated spaces kept. */
export function odfText(contentXml: Uint8Array): string {
  const s = strFromU8(contentXml);
  const body = s.slice(Math.max(0, s.indexOf('<office:body')));
  return body
    .replace(/<text:tab\s*\/>/g, '\t')
    .replace(/<text:line-break\s*\/>/g, '\n')
    .replace(/<text:s(?:\s+text:c="(\d+)")?\s*\/>/g, (_, n: string | undefined) => ' '.repeat(Math.min(Number(n ?? 1), 1000)))
    .replace(/<text:note-citation[^>]*>[\s\S]*?<\/text:note-citation>/g, '')
    .replace(/<\/text:(p|h)>/g, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) =>
      e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'amp' ? '&' : e === 'quot' ? '"' : e === 'apos' ? "'" :
      String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)));
}

interface WordExtractorDoc {
  getBody(): string;
  getFootnotes(): string;
  getHeaders(opts?: { includeFooters?: boolean }): string;
}

/** Body text of a legacy Word 97–2003 .doc via word-extractor. */
export async function legacyDocText(path: string): Promise<{ body: string; footnotes: string }> {
  const WordExtractor = require('word-extractor') as new () => { extract(input: string | Buffer): Promise<WordExtractorDoc> };
  try {
    const doc = await new WordExtractor().extract(await readFile(path));
    return { body: doc.getBody(), footnotes: doc.getFootnotes() };
  } catch (err) {
    throw new PermanentExtractError('DOC_NOT_EXTRACTED', `Text of this Word 97–2003 file could not be extracted: ${(err as Error).message}`);
  }
}
