/**
 * The only module that calls mammoth, fflate, fast-xml-parser, word-extractor and cfb, and the one
 * that reads presentations (PPTX slide XML, ODP pages, the records of a PowerPoint 97–2003 file).
 *
 * ZIP containers (DOCX, ODT, PPTX, ODP) are read with a streaming inflater that stops an entry past
 * MAX_ENTRY_BYTES, whatever its header claims (decompression bombs); mammoth only sees a file
 * whose main part passed that check.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Unzip, UnzipInflate, strFromU8 } from 'fflate';
import { XMLParser } from 'fast-xml-parser';
import mammoth from 'mammoth';
import { PermanentExtractError } from '../extractors/types.ts';
import { XML_ENTITY, decodeEntity, elementsOf, isTagAt, withoutDoctype, withoutElements, withoutTags } from '../xml-scan.ts';
import { decodeBytes } from './text-encoding.ts';

const require = createRequire(import.meta.url);

/**
 * Largest decompressed size of one ZIP entry we read. mammoth builds a DOM of document.xml, which
 * costs several times its size, so this stays well under the worker's memory cap.
 */
export const MAX_ENTRY_BYTES = 48 * 1024 * 1024;

/** Decompresses the wanted entries of a ZIP, each capped at maxBytes. Missing entries are absent from the map. */
/** Largest decompressed size of all the entries read from one archive together (a deck of many slides). */
export const MAX_TOTAL_BYTES = 160 * 1024 * 1024;

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
    return xml.parse(withoutDoctype(strFromU8(bytes))) as Record<string, unknown>;
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
  return odfMarkupText(s.slice(Math.max(0, s.indexOf('<office:body'))));
}

/**
 * Text of each page (slide) of an ODP content.xml, in order: the text of the page's frames, and its
 * speaker notes (`presentation:notes`, which sits inside the page) apart.
 */
export function odpPageTexts(contentXml: Uint8Array): Array<{ text: string; notes: string }> {
  const s = strFromU8(contentXml);
  const pages: Array<{ text: string; notes: string }> = [];
  for (const page of elementsOf(s, 'draw:page')) {
    // Page-number fields (a notes page's slide number) are not text of the slide.
    const inner = withoutElements(withoutElements(s.slice(page.inner, page.innerEnd), 'text:page-number'), 'text:page-count');
    let notes = '';
    for (const n of elementsOf(inner, 'presentation:notes')) notes += odfMarkupText(inner.slice(n.inner, n.innerEnd));
    pages.push({ text: odfMarkupText(withoutElements(inner, 'presentation:notes')).trim(), notes: notes.trim() });
  }
  return pages;
}

function odfMarkupText(markup: string): string {
  const body = withoutElements(markup, 'text:note-citation');
  return withoutTags(body
    .replace(/<text:tab\s*\/>/g, '\t')
    .replace(/<text:line-break\s*\/>/g, '\n')
    .replace(/<text:s(?:\s+text:c="(\d+)")?\s*\/>/g, (_, n: string | undefined) => ' '.repeat(Math.min(Number(n ?? 1), 1000)))
    .replace(/<\/text:(p|h)>/g, '\n')).replace(XML_ENTITY, decodeEntity);
}

interface WordExtractorDoc {
  getBody(opts?: { filterUnicode?: boolean }): string;
  getFootnotes(opts?: { filterUnicode?: boolean }): string;
  getHeaders(opts?: { includeFooters?: boolean }): string;
}

/**
 * Body text of a legacy Word 97–2003 .doc via word-extractor, with its typographic characters as
 * written (word-extractor by default turns curly quotes and dashes into ASCII), and the file's
 * summary properties.
 */
export async function legacyDocText(path: string): Promise<{ body: string; footnotes: string; props: OleSummary }> {
  const WordExtractor = require('word-extractor') as new () => { extract(input: string | Buffer): Promise<WordExtractorDoc> };
  try {
    const file = await readFile(path);
    const doc = await new WordExtractor().extract(file);
    return { body: doc.getBody({ filterUnicode: false }), footnotes: doc.getFootnotes({ filterUnicode: false }), props: oleSummary(file) };
  } catch (err) {
    throw new PermanentExtractError('DOC_NOT_EXTRACTED', `Text of this Word 97–2003 file could not be extracted: ${(err as Error).message}`);
  }
}

/**
 * Text of a DrawingML part (a PPTX slide or notes page): the runs of each paragraph (`<a:t>`) on one
 * line, line breaks and tabs kept. Slide-number fields are left out (a notes page repeats the number).
 */
export function drawingMLText(xmlBytes: Uint8Array): string {
  const s = withoutElements(strFromU8(xmlBytes), 'a:fld', (startTag) => /\btype="slidenum"/.test(startTag));
  let out = '';
  for (let i = s.indexOf('<'); i >= 0; i = s.indexOf('<', i + 1)) {
    if (isTagAt(s, i, 'a:t')) {
      const gt = s.indexOf('>', i);
      if (gt < 0) break;
      if (s[gt - 1] === '/') continue;
      const close = s.indexOf('</a:t>', gt + 1);
      if (close < 0) break;
      out += s.slice(gt + 1, close).replace(XML_ENTITY, decodeEntity);
      i = close;
    } else if (s.startsWith('</a:p>', i) || isTagAt(s, i, 'a:br')) out += '\n';
    else if (isTagAt(s, i, 'a:tab')) out += '\t';
  }
  return out.replace(/\n{2,}/g, '\n').trim();
}

const SLIDE_PART = /^ppt\/slides\/slide(\d+)\.xml$/;

/** Targets of a relationships part by relationship id, each resolved against `base` (the folder of the part they belong to). */
function relationships(relsXml: Uint8Array | undefined, base: string): Map<string, { type: string; target: string }> {
  const out = new Map<string, { type: string; target: string }>();
  if (!relsXml) return out;
  const s = strFromU8(relsXml);
  for (const e of elementsOf(s, 'Relationship')) {
    const tag = s.slice(e.start, e.inner);
    const attr = (n: string) => new RegExp(`\\s${n}="([^"]*)"`).exec(tag)?.[1];
    const id = attr('Id');
    const target = attr('Target');
    if (id === undefined || target === undefined || attr('TargetMode') === 'External') continue;
    const parts = (target.startsWith('/') ? target.slice(1) : `${base}/${target}`).split('/');
    const path: string[] = [];
    for (const p of parts) {
      if (p === '..') path.pop();
      else if (p !== '.' && p !== '') path.push(p);
    }
    out.set(id, { type: attr('Type') ?? '', target: path.join('/') });
  }
  return out;
}

/**
 * The slides of a PPTX (or PPSX), in the order the presentation shows them (its slide list; slide
 * parts it does not list follow in name order), each with its text and its speaker notes' text.
 * `parts` are the archive entries read with `pptxWanted`.
 */
export function pptxSlides(parts: Map<string, Uint8Array>): Array<{ part: string; text: string; notes: string }> {
  const rels = relationships(parts.get('ppt/_rels/presentation.xml.rels'), 'ppt');
  const order: string[] = [];
  const pres = parts.get('ppt/presentation.xml');
  if (pres) {
    const xml = strFromU8(pres);
    const lst = elementsOf(xml, 'p:sldIdLst').next().value;
    const list = lst !== undefined ? xml.slice(lst.inner, lst.innerEnd) : '';
    for (const e of elementsOf(list, 'p:sldId')) {
      const rid = /\sr:id="([^"]+)"/.exec(list.slice(e.start, e.inner))?.[1];
      const target = rid !== undefined ? rels.get(rid)?.target : undefined;
      if (target !== undefined && parts.has(target) && !order.includes(target)) order.push(target);
    }
  }
  const rest = [...parts.keys()].filter((n) => SLIDE_PART.test(n) && !order.includes(n));
  rest.sort((a, b) => Number(SLIDE_PART.exec(a)![1]) - Number(SLIDE_PART.exec(b)![1]));
  return [...order, ...rest].map((part) => {
    const name = part.slice(part.lastIndexOf('/') + 1);
    const slideRels = relationships(parts.get(`ppt/slides/_rels/${name}.rels`), 'ppt/slides');
    const notesPart = [...slideRels.values()].find((r) => r.type.endsWith('/notesSlide'))?.target;
    const notesXml = notesPart !== undefined ? parts.get(notesPart) : undefined;
    return { part, text: drawingMLText(parts.get(part)!), notes: notesXml ? drawingMLText(notesXml) : '' };
  });
}

/** The archive entries `pptxSlides` and the document properties need. */
export const pptxWanted = (name: string): boolean =>
  name === 'ppt/presentation.xml' ||
  name === 'ppt/_rels/presentation.xml.rels' ||
  name === 'docProps/core.xml' ||
  name === 'docProps/app.xml' ||
  SLIDE_PART.test(name) ||
  /^ppt\/slides\/_rels\/slide\d+\.xml\.rels$/.test(name) ||
  /^ppt\/notesSlides\/notesSlide\d+\.xml$/.test(name);

// ---------- PowerPoint 97–2003 (.ppt) ----------

/** Record types of the binary PowerPoint format ([MS-PPT]) read here. */
const PPT = {
  document: 0x03e8,
  slide: 0x03ee,
  slideAtom: 0x03ef,
  notes: 0x03f0,
  slidePersistAtom: 0x03f3,
  slideListWithText: 0x0ff0,
  userEditAtom: 0x0ff5,
  persistDirectoryAtom: 0x1772,
  textCharsAtom: 0x0fa0,
  textBytesAtom: 0x0fa8,
} as const;

interface PptRecord {
  type: number;
  instance: number;
  container: boolean;
  /** Offset of the record's data (after its 8-byte header) and its end, in the stream. */
  start: number;
  end: number;
}

/** The records directly inside [from, to), each checked to lie inside it (a damaged length ends the list). */
function pptChildren(s: Buffer, from: number, to: number): PptRecord[] {
  const out: PptRecord[] = [];
  let at = from;
  while (at + 8 <= to && out.length < 100_000) {
    const r = pptRecordAt(s, at);
    if (r === null || r.end > to) break;
    out.push(r);
    at = r.end;
  }
  return out;
}

/** The record whose header starts at `at`, or null when it does not fit in the stream. */
function pptRecordAt(s: Buffer, at: number): PptRecord | null {
  if (!Number.isInteger(at) || at < 0 || at + 8 > s.length) return null;
  const len = s.readUInt32LE(at + 4);
  if (at + 8 + len > s.length) return null;
  const verInst = s.readUInt16LE(at);
  return { type: s.readUInt16LE(at + 2), instance: verInst >> 4, container: (verInst & 0xf) === 0xf, start: at + 8, end: at + 8 + len };
}

/** A text atom's text: UTF-16LE (TextCharsAtom) or one byte per character (TextBytesAtom); CR and VT end lines. */
function pptText(s: Buffer, r: PptRecord): string {
  const raw = r.type === PPT.textCharsAtom ? s.toString('utf16le', r.start, r.end - ((r.end - r.start) % 2)) : s.toString('latin1', r.start, r.end);
  return raw.replace(/[\r\v]/g, '\n');
}

/** Texts of every text atom inside a record, in order (containers searched to a bounded depth). */
function pptTexts(s: Buffer, r: PptRecord, out: string[] = [], depth = 0): string[] {
  if (r.type === PPT.textCharsAtom || r.type === PPT.textBytesAtom) out.push(pptText(s, r));
  else if (r.container && depth < 32) for (const c of pptChildren(s, r.start, r.end)) pptTexts(s, c, out, depth + 1);
  return out;
}

/**
 * The persist directory of the newest save: persist id → stream offset, following the chain of
 * user edits from the one the Current User stream names (newer entries win over older ones).
 */
function pptPersist(s: Buffer, currentUser: Buffer | undefined): { offsets: Map<number, number>; docRef: number } | null {
  let edit = currentUser !== undefined && currentUser.length >= 20 ? currentUser.readUInt32LE(16) : -1;
  const offsets = new Map<number, number>();
  let docRef = -1;
  const seen = new Set<number>();
  while (edit > 0 && !seen.has(edit) && seen.size < 1000) {
    seen.add(edit);
    const ue = pptRecordAt(s, edit);
    if (ue === null || ue.type !== PPT.userEditAtom || ue.end - ue.start < 20) return null;
    if (docRef < 0) docRef = s.readUInt32LE(ue.start + 16);
    const dir = pptRecordAt(s, s.readUInt32LE(ue.start + 12));
    if (dir === null || dir.type !== PPT.persistDirectoryAtom) return null;
    for (let at = dir.start; at + 4 <= dir.end; ) {
      const head = s.readUInt32LE(at);
      const first = head & 0xfffff;
      const count = head >>> 20;
      at += 4;
      for (let k = 0; k < count && at + 4 <= dir.end; k++, at += 4) if (!offsets.has(first + k)) offsets.set(first + k, s.readUInt32LE(at));
    }
    edit = s.readUInt32LE(ue.start + 8);
  }
  return docRef >= 0 ? { offsets, docRef } : null;
}

/** Lines of `extra` not already among `have` (a shape's text can be stored twice: in the slide list and in the drawing). */
function addNew(have: string[], extra: string[]): string[] {
  const seen = new Set(have.map((t) => t.trim()));
  return [...have, ...extra.filter((t) => t.trim() !== '' && !seen.has(t.trim()))];
}

/**
 * The slides of a PowerPoint 97–2003 file in the order the deck shows them (its slide list), each
 * with its text (placeholders from the slide list, then the text boxes of its drawing) and its
 * speaker notes. Master slides and their boilerplate are not read. Reads the CFB container with cfb.
 */
export function pptSlides(file: Buffer): Array<{ text: string; notes: string }> {
  const CFB = require('cfb') as { read(d: Buffer, o: { type: 'buffer' }): unknown; find(c: unknown, p: string): { content?: Uint8Array | number[] } | null };
  let stream: Buffer;
  let currentUser: Buffer | undefined;
  try {
    const doc = CFB.read(file, { type: 'buffer' });
    const main = CFB.find(doc, 'PowerPoint Document')?.content;
    if (!main || main.length === 0) throw new Error('no PowerPoint Document stream');
    stream = Buffer.from(main as Uint8Array);
    const cu = CFB.find(doc, 'Current User')?.content;
    currentUser = cu && cu.length > 0 ? Buffer.from(cu as Uint8Array) : undefined;
  } catch (err) {
    throw new PermanentExtractError('OFFICE_MALFORMED', `The presentation could not be read: ${(err as Error).message}`);
  }
  const persist = pptPersist(stream, currentUser);
  // The document container: through the persist directory, else the first one in the stream (a file
  // whose edit chain is damaged still has its slide list).
  const at = (ref: number) => (persist?.offsets.has(ref) ? pptRecordAt(stream, persist.offsets.get(ref)!) : null);
  let docRec = persist !== null ? at(persist.docRef) : null;
  if (docRec?.type !== PPT.document) docRec = pptChildren(stream, 0, stream.length).find((r) => r.type === PPT.document) ?? null;
  if (docRec === null) throw new PermanentExtractError('OFFICE_MALFORMED', 'The presentation has no document record');
  const lists = pptChildren(stream, docRec.start, docRec.end).filter((r) => r.type === PPT.slideListWithText);
  /**
   * The entries of the slide lists of one kind (instance 0: slides, 2: notes) in order: each one's
   * persist id, slide id and the texts the list holds for it (writers keep the placeholder texts
   * there, in the drawing, or in both).
   */
  const listed = (instance: number) => {
    const out: Array<{ ref: number; id: number; texts: string[] }> = [];
    for (const list of lists.filter((l) => l.instance === instance)) {
      for (const r of pptChildren(stream, list.start, list.end)) {
        if (r.type === PPT.slidePersistAtom && r.end - r.start >= 16) out.push({ ref: stream.readUInt32LE(r.start), id: stream.readUInt32LE(r.start + 12), texts: [] });
        else if ((r.type === PPT.textCharsAtom || r.type === PPT.textBytesAtom) && out.length > 0) out[out.length - 1].texts.push(pptText(stream, r));
      }
    }
    return out;
  };
  // A slide names its notes by their notes id (the notes list's slide id), not by persist id.
  const notesById = new Map(listed(2).map((n) => [n.id, n]));
  return listed(0).map(({ ref, texts }) => {
    let own = texts;
    let notes: string[] = [];
    const slide = at(ref);
    if (slide?.type === PPT.slide) {
      const children = pptChildren(stream, slide.start, slide.end);
      for (const c of children) if (c.type !== PPT.slideAtom) own = addNew(own, pptTexts(stream, c));
      const atom = children.find((c) => c.type === PPT.slideAtom);
      const notesId = atom !== undefined && atom.end - atom.start >= 20 ? stream.readUInt32LE(atom.start + 16) : 0;
      const entry = notesId !== 0 ? notesById.get(notesId) : undefined;
      if (entry !== undefined) {
        notes = entry.texts;
        const n = at(entry.ref);
        if (n?.type === PPT.notes) notes = addNew(notes, pptTexts(stream, n));
      }
    }
    // A lone "*" is a field placeholder (slide number, date, footer), not text.
    const join = (parts: string[]) => parts.map((t) => t.trim()).filter((t) => t !== '' && t !== '*').join('\n');
    return { text: join(own), notes: join(notes) };
  });
}

// ---------- Summary properties of compound files (.doc, .ppt) ----------

export interface OleSummary {
  title?: string;
  subject?: string;
  author?: string;
  keywords?: string;
  description?: string;
  lastModifiedBy?: string;
  createdAt?: string;
  modifiedAt?: string;
  pageCount?: number;
  wordCount?: number;
  application?: string;
}

const SUMMARY_IDS: Record<number, keyof OleSummary> = {
  2: 'title', 3: 'subject', 4: 'author', 5: 'keywords', 6: 'description', 8: 'lastModifiedBy', 12: 'createdAt', 13: 'modifiedAt', 14: 'pageCount', 15: 'wordCount', 18: 'application',
};

/**
 * The SummaryInformation property set of a compound file ([MS-OLEPS]): title, subject, author,
 * keywords, comments, last author, creation and save times, page and word counts, application.
 * Strings in the set's code page (Windows-1258 on Vietnamese Windows); {} when absent or unreadable.
 */
export function oleSummary(file: Buffer): OleSummary {
  const CFB = require('cfb') as { read(d: Buffer, o: { type: 'buffer' }): unknown; find(c: unknown, p: string): { content?: Uint8Array | number[] } | null };
  const out: OleSummary = {};
  try {
    const raw = CFB.find(CFB.read(file, { type: 'buffer' }), '\u0005SummaryInformation')?.content;
    if (!raw || raw.length < 48) return out;
    const b = Buffer.from(raw as Uint8Array);
    const section = b.readUInt32LE(44);
    if (section + 8 > b.length) return out;
    const count = Math.min(b.readUInt32LE(section + 4), 1000);
    const props = new Map<number, number>();
    for (let k = 0; k < count && section + 16 + k * 8 <= b.length; k++) props.set(b.readUInt32LE(section + 8 + k * 8), section + b.readUInt32LE(section + 12 + k * 8));
    const cpAt = props.get(1);
    const codePage = cpAt !== undefined && cpAt + 6 <= b.length && (b.readUInt32LE(cpAt) & 0xffff) === 2 ? b.readUInt16LE(cpAt + 4) : 1252;
    const encoding = codePage === 65001 ? 'utf8' : codePage === 1200 ? 'utf16le' : `windows-${codePage}`;
    for (const [id, at] of props) {
      const key = SUMMARY_IDS[id];
      if (key === undefined || at + 8 > b.length) continue;
      const type = b.readUInt32LE(at) & 0xffff;
      let v: string | number | undefined;
      if (type === 0x1e) {
        const len = Math.min(b.readUInt32LE(at + 4), b.length - at - 8);
        v = decodeBytes(b.subarray(at + 8, at + 8 + len), encoding).replace(/\0[\s\S]*$/, '').normalize('NFC').trim();
      } else if (type === 0x1f) {
        const chars = Math.min(b.readUInt32LE(at + 4), (b.length - at - 8) >> 1);
        v = b.toString('utf16le', at + 8, at + 8 + chars * 2).replace(/\0[\s\S]*$/, '').normalize('NFC').trim();
      } else if (type === 0x40 && at + 12 <= b.length) {
        // FILETIME: 100 ns ticks since 1601-01-01; a zero or absurd time is no date.
        const ms = Number(b.readBigUInt64LE(at + 4) / 10_000n) - 11_644_473_600_000;
        if (ms > 0 && ms < 4_102_444_800_000) v = new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
      } else if (type === 3) v = b.readInt32LE(at + 4);
      if (v !== undefined && v !== '' && !(typeof v === 'number' && (key === 'pageCount' || key === 'wordCount') && v <= 0)) (out as Record<string, unknown>)[key] = v;
    }
  } catch {
    /* no summary */
  }
  return out;
}

// ---------- EPUB (e-books) ----------

/** An archive path resolved against a folder (`..` and `.` applied, percent-escapes decoded, fragment dropped). */
function zipPath(base: string, href: string): string {
  let h = href.split('#')[0];
  try {
    h = decodeURIComponent(h);
  } catch {
    /* keep it as written */
  }
  const parts = (h.startsWith('/') ? h.slice(1) : base === '' ? h : `${base}/${h}`).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop();
    else if (p !== '.' && p !== '') out.push(p);
  }
  return out.join('/');
}

const attrOf = (tag: string, name: string): string | undefined => new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"|\\s${name}\\s*=\\s*'([^']*)'`).exec(tag)?.slice(1).find((v) => v !== undefined);

/** Block-level XHTML elements: their ends (and <br>) end a line of text. */
const XHTML_BLOCK = /^(p|div|h[1-6]|li|tr|br|blockquote|section|article|aside|header|footer|dd|dt|figcaption|caption|pre|hr|table|ul|ol|title)$/i;

/** Text of an XHTML document: the body's text, one line per block, script/style left out, entities decoded. */
export function xhtmlText(bytes: Uint8Array): string {
  const s = strFromU8(bytes);
  const bodyAt = s.search(/<body[\s>]/i);
  let body = bodyAt >= 0 ? s.slice(bodyAt) : s;
  for (const name of ['script', 'style', 'svg:title']) body = withoutElements(body, name);
  let out = '';
  let from = 0;
  for (let i = body.indexOf('<'); i >= 0; i = body.indexOf('<', from)) {
    out += body.slice(from, i);
    const gt = body.indexOf('>', i);
    if (gt < 0) {
      from = body.length;
      break;
    }
    const name = /^<\/?\s*([A-Za-z][\w:.-]*)/.exec(body.slice(i, Math.min(gt + 1, i + 40)))?.[1]?.replace(/^\w+:/, '') ?? '';
    if (XHTML_BLOCK.test(name)) out += '\n';
    from = gt + 1;
  }
  out += body.slice(from);
  // Runs of spaces first (each run matched once), then the line ends around them: both linear.
  return decodeHtmlEntities(out)
    .replace(/[ \t\r\f\v\u00a0]+/g, ' ')
    .replace(/ ?\n[ \n]*/g, '\n')
    .trim();
}

const HTML_ENTITIES: Record<string, string> = { nbsp: '\u00a0', ndash: '–', mdash: '—', hellip: '…', laquo: '«', raquo: '»', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', copy: '©', reg: '®', middot: '·', bull: '•', shy: '' };
function decodeHtmlEntities(s: string): string {
  return s.replace(/&([a-zA-Z]+|#\d+|#[xX][0-9a-fA-F]+);/g, (all, e: string) => {
    if (e[0] === '#') return decodeEntity(all, e);
    if (e === 'lt' || e === 'gt' || e === 'amp' || e === 'quot' || e === 'apos') return decodeEntity(all, e);
    return HTML_ENTITIES[e] ?? all;
  });
}

export interface EpubBook {
  /** Text of each document of the reading order (the spine), in order. */
  sections: string[];
  meta: { title?: string; author?: string; language?: string; publisher?: string; date?: string; identifier?: string; description?: string; subject?: string };
  /** Archive path of the cover image, when the package names one. */
  cover?: string;
}

/**
 * The package of an EPUB 2 or 3 e-book: META-INF/container.xml names the package document (OPF),
 * whose manifest and spine give the reading order; its Dublin Core metadata gives the book's facts.
 * `read(names)` returns the archive entries asked for (capped like every ZIP read here).
 */
export function epubBook(read: (wanted: (name: string) => boolean) => Map<string, Uint8Array>): EpubBook {
  const container = read((n) => n === 'META-INF/container.xml').get('META-INF/container.xml');
  if (!container) throw new PermanentExtractError('OFFICE_MALFORMED', 'The EPUB has no META-INF/container.xml');
  const c = strFromU8(container);
  const rootTag = elementsOf(c, 'rootfile').next().value;
  const opfPath = rootTag !== undefined ? attrOf(c.slice(rootTag.start, rootTag.inner), 'full-path') : undefined;
  if (opfPath === undefined) throw new PermanentExtractError('OFFICE_MALFORMED', 'The EPUB container names no package document');
  const opfName = zipPath('', opfPath);
  const opfBytes = read((n) => n === opfName).get(opfName);
  if (!opfBytes) throw new PermanentExtractError('OFFICE_MALFORMED', `The EPUB has no package document ${opfName}`);
  const opf = strFromU8(opfBytes);
  const base = opfName.includes('/') ? opfName.slice(0, opfName.lastIndexOf('/')) : '';
  const manifest = new Map<string, { href: string; type: string; props: string }>();
  for (const name of ['item', 'opf:item']) {
    for (const e of elementsOf(opf, name)) {
      const tag = opf.slice(e.start, e.inner);
      const id = attrOf(tag, 'id');
      const href = attrOf(tag, 'href');
      if (id !== undefined && href !== undefined) manifest.set(id, { href: zipPath(base, href), type: attrOf(tag, 'media-type') ?? '', props: attrOf(tag, 'properties') ?? '' });
    }
  }
  const order: string[] = [];
  for (const name of ['itemref', 'opf:itemref']) {
    for (const e of elementsOf(opf, name)) {
      const idref = attrOf(opf.slice(e.start, e.inner), 'idref');
      const item = idref !== undefined ? manifest.get(idref) : undefined;
      if (item !== undefined && /html|xml/i.test(item.type || 'xhtml') && !order.includes(item.href)) order.push(item.href);
    }
  }
  const docs = read((n) => order.includes(n));
  const dc = (name: string): string | undefined => {
    for (const e of elementsOf(opf, `dc:${name}`)) {
      const v = decodeHtmlEntities(withoutTags(opf.slice(e.inner, e.innerEnd))).normalize('NFC').trim();
      if (v !== '') return v;
    }
    return undefined;
  };
  const dcAll = (name: string): string | undefined => {
    const all: string[] = [];
    for (const e of elementsOf(opf, `dc:${name}`)) {
      const v = decodeHtmlEntities(withoutTags(opf.slice(e.inner, e.innerEnd))).normalize('NFC').trim();
      if (v !== '' && !all.includes(v)) all.push(v);
    }
    return all.length > 0 ? all.join('; ') : undefined;
  };
  // The cover: EPUB 3 names it by property, EPUB 2 by <meta name="cover" content="id">.
  let cover = [...manifest.values()].find((m) => /(^|\s)cover-image(\s|$)/.test(m.props))?.href;
  if (cover === undefined) {
    for (const e of elementsOf(opf, 'meta')) {
      const tag = opf.slice(e.start, e.inner);
      if (attrOf(tag, 'name') === 'cover') cover = manifest.get(attrOf(tag, 'content') ?? '')?.href;
    }
  }
  return {
    sections: order.map((href) => (docs.has(href) ? xhtmlText(docs.get(href)!) : '')),
    meta: { title: dc('title'), author: dcAll('creator'), language: dc('language'), publisher: dc('publisher'), date: dc('date'), identifier: dc('identifier'), description: dc('description'), subject: dcAll('subject') },
    cover,
  };
}
