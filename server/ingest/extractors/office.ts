/**
 * Office documents: DOCX (mammoth), ODT (content.xml), legacy .doc (word-extractor), RTF (rtf.ts),
 * EPUB e-books (one page per document of the reading order; cover image as thumbnail), spreadsheets
 * (XLSX, ODS, Excel 97–2003 .xls: one page per sheet, rows as lines, cells tab-separated), and slide
 * decks: PPTX/PPSX (slide XML), ODP (content.xml pages) and PowerPoint 97–2003 .ppt (its records).
 *
 * Metadata keys: `format` (docx | odt | doc | rtf | epub | xlsx | ods | xls | pptx | ppsx | odp | ppt), `title`, `subject`, `author`, `keywords`,
 * `description`, `lastModifiedBy`, `createdAt`, `modifiedAt`, `application`, `company`,
 * `pageCount` (as saved by the editor), `wordCount`, `chars` (text extracted); for decks
 * `slideCount` (slides found), `notesCount` (slides with speaker notes), `hiddenSlides` (as saved).
 *
 * Text: a word-processing document's whole text as page 1 (word processors do not store reliable
 * page breaks), footnotes, endnotes and comments included (after the body in DOCX, .doc and RTF,
 * where they stand in ODT), headers and footers not; a deck's slides as pages 1…n in the order it
 * shows them, each slide's text followed by its speaker notes, so a search hit names its slide.
 * Thumbnail: the preview the editor saved (docProps/thumbnail.jpeg, Thumbnails/thumbnail.png)
 * when present and decodable; otherwise none (placeholder).
 * Failures: EMPTY_FILE, OFFICE_MALFORMED (damaged archive), OFFICE_TOO_LARGE (entry expands past
 * the cap), OFFICE_ENCRYPTED (a password-protected .xls, ODT, ODS or ODP), DOC_NOT_EXTRACTED (.doc text not extractable).
 */
import { readFile } from 'node:fs/promises';
import { docxText, docxXmlParts, legacyDocText, parseXml, readZipEntries } from '../adapters/office.ts';
import { epubBook } from './epub.ts';
import { docxNotes, odfText, odpPageTexts, odsSheets, pptxSlides, pptxWanted, xlsxSheets, xlsxWanted } from './office-markup.ts';
import { oleSummary, pptSlides } from './ppt.ts';
import { writeThumbnails } from '../adapters/sharp.ts';
import { assertNotEmpty, compact, documentProps, documentTexts } from './common.ts';
import { parseRtf } from './rtf.ts';
import { xlsSheets } from './xls.ts';
import { MAX_TEXT_PAGES } from './text.ts';
import { xmlText } from '../xml-scan.ts';
import { PermanentExtractError, type ExtractInput, type ExtractResult, type Extractor, type ThumbnailResult } from './types.ts';

type Format = 'docx' | 'odt' | 'doc' | 'rtf' | 'epub' | 'xlsx' | 'ods' | 'xls' | 'pptx' | 'ppsx' | 'odp' | 'ppt';

function formatOf(input: ExtractInput): Format {
  switch (input.mediaType) {
    case 'application/msword':
      return 'doc';
    case 'application/rtf':
      return 'rtf';
    case 'application/epub+zip':
      return 'epub';
    case 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet':
      return 'xlsx';
    case 'application/vnd.oasis.opendocument.spreadsheet':
      return 'ods';
    case 'application/vnd.ms-excel':
      return 'xls';
    case 'application/vnd.oasis.opendocument.text':
      return 'odt';
    case 'application/vnd.openxmlformats-officedocument.presentationml.presentation':
      return 'pptx';
    case 'application/vnd.openxmlformats-officedocument.presentationml.slideshow':
      return 'ppsx';
    case 'application/vnd.oasis.opendocument.presentation':
      return 'odp';
    case 'application/vnd.ms-powerpoint':
      return 'ppt';
    default:
      return 'docx';
  }
}

/** Text content of a parsed XML node (string, {#text}, or the first of an array). */
function val(v: unknown): string | undefined {
  if (Array.isArray(v)) return v.map(val).filter(Boolean).join('; ') || undefined;
  if (typeof v === 'string' || typeof v === 'number') return String(v).trim().normalize('NFC') || undefined;
  if (v && typeof v === 'object' && '#text' in v) return val((v as Record<string, unknown>)['#text']);
  return undefined;
}
const int = (v: unknown) => {
  const n = Number(val(v));
  return Number.isFinite(n) && val(v) !== undefined ? n : undefined;
};
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

const ODF_PARTS = new Set(['content.xml', 'meta.xml', 'META-INF/manifest.xml']);
const THUMBS = ['docProps/thumbnail.jpeg', 'docProps/thumbnail.jpg', 'docProps/thumbnail.png', 'Thumbnails/thumbnail.png'];

/** What a format's reader gives: its text pages (one for a word-processing document) and its properties. */
interface Read {
  pages: string[];
  props: Record<string, unknown>;
}

/** Core document properties (title, author, dates…) shared by the OOXML formats. */
function ooxmlCore(parts: Map<string, Uint8Array>) {
  const core = obj(parseXml(parts.get('docProps/core.xml')).coreProperties);
  return {
    title: val(core.title), subject: val(core.subject), author: val(core.creator), keywords: val(core.keywords),
    description: val(core.description), lastModifiedBy: val(core.lastModifiedBy),
    createdAt: val(core.created), modifiedAt: val(core.modified),
  };
}

/** An ODF file's content.xml (OFFICE_MALFORMED without one) and its meta.xml properties, shared by ODT, ODP and ODS. */
function odfParts(zip: Buffer, what: string) {
  const parts = readZipEntries(zip, (n) => ODF_PARTS.has(n));
  // Saved with a password: the manifest describes how each stream is encrypted, and content.xml is
  // ciphertext (read as XML, its bytes came out as pages of noise that were indexed as the text).
  const manifest = parts.get('META-INF/manifest.xml');
  if (manifest && /<(?:\w+:)?encryption-data\b/.test(xmlText(manifest))) {
    throw new PermanentExtractError('OFFICE_ENCRYPTED', `The ${what} is password-protected; its text cannot be read`);
  }
  const content = parts.get('content.xml');
  if (!content) throw new PermanentExtractError('OFFICE_MALFORMED', `The ${what} has no content.xml`);
  const meta = obj(obj(parseXml(parts.get('meta.xml'))['document-meta']).meta);
  return {
    content,
    stats: obj(meta['document-statistic']),
    props: {
      title: val(meta.title), subject: val(meta.subject), author: val(meta['initial-creator']) ?? val(meta.creator),
      keywords: val(meta.keyword), description: val(meta.description), lastModifiedBy: val(meta.creator),
      createdAt: val(meta['creation-date']), modifiedAt: val(meta.date), application: val(meta.generator),
    },
  };
}

async function readDocx(zip: Buffer): Promise<Read> {
  const xmlParts = docxXmlParts(zip);
  const { parts } = xmlParts;
  if (!parts.has('word/document.xml')) throw new PermanentExtractError('OFFICE_MALFORMED', 'The DOCX has no word/document.xml');
  const app = obj(parseXml(parts.get('docProps/app.xml')).Properties);
  const body = (await docxText(zip, xmlParts)).replace(/\n\n/g, '\n');
  // mammoth's raw text is the body only: footnotes, endnotes and comments follow it, as in a .doc or
  // RTF (an ODT has them in place). Headers and footers are left out, as in the other formats.
  const notes = docxNotes(parts);
  return {
    pages: [notes.length ? [body.trimEnd(), ...notes].join('\n') : body],
    props: { ...ooxmlCore(parts), application: val(app.Application), company: val(app.Company), pageCount: int(app.Pages), wordCount: int(app.Words) },
  };
}

function readOdt(zip: Buffer): Read {
  const { content, stats, props } = odfParts(zip, 'ODT');
  return { pages: [odfText(content)], props: { ...props, pageCount: int(stats['@page-count']), wordCount: int(stats['@word-count']) } };
}

/** A slide's page text: its own text, then its speaker notes. */
const slidePage = (s: { text: string; notes: string }) => (s.notes ? (s.text ? `${s.text}\n\n${s.notes}` : s.notes) : s.text);
const notesCount = (slides: Array<{ notes: string }>) => slides.filter((s) => s.notes !== '').length;

function readPptx(zip: Buffer): Read {
  const parts = readZipEntries(zip, pptxWanted);
  if (!parts.has('ppt/presentation.xml')) throw new PermanentExtractError('OFFICE_MALFORMED', 'The presentation has no ppt/presentation.xml');
  const app = obj(parseXml(parts.get('docProps/app.xml')).Properties);
  const slides = pptxSlides(parts);
  return {
    pages: slides.map(slidePage),
    props: {
      ...ooxmlCore(parts), application: val(app.Application), company: val(app.Company), wordCount: int(app.Words),
      slideCount: slides.length, notesCount: notesCount(slides), hiddenSlides: int(app.HiddenSlides) || undefined,
    },
  };
}

function readOdp(zip: Buffer): Read {
  const { content, props } = odfParts(zip, 'ODP');
  const slides = odpPageTexts(content);
  return { pages: slides.map(slidePage), props: { ...props, slideCount: slides.length, notesCount: notesCount(slides) } };
}

function readPpt(file: Buffer): Read {
  const slides = pptSlides(file);
  const { pageCount: _pages, ...summary } = oleSummary(file);
  return { pages: slides.map(slidePage), props: { ...summary, slideCount: slides.length, notesCount: notesCount(slides) } };
}

/** Sheets as pages, each headed by its name. */
const sheetPages = (sheets: Array<{ name: string; text: string }>, props: Record<string, unknown>): Read => ({
  pages: sheets.map((sh) => (sh.name ? `${sh.name}\n${sh.text}` : sh.text)),
  props: { ...props, sheets: sheets.map((sh) => sh.name), sheetCount: sheets.length },
});

function readXlsx(zip: Buffer): Read {
  const parts = readZipEntries(zip, xlsxWanted);
  if (!parts.has('xl/workbook.xml')) throw new PermanentExtractError('OFFICE_MALFORMED', 'The workbook has no xl/workbook.xml');
  const app = obj(parseXml(parts.get('docProps/app.xml')).Properties);
  return sheetPages(xlsxSheets(parts), { ...ooxmlCore(parts), application: val(app.Application), company: val(app.Company) });
}

function readOds(zip: Buffer): Read {
  const { content, props } = odfParts(zip, 'ODS');
  return sheetPages(odsSheets(content), props);
}

function readEpub(zip: Buffer): Read {
  const book = epubBook((wanted) => readZipEntries(zip, wanted));
  return { pages: book.sections, props: { ...book.meta, sections: book.sections.length } };
}

async function readFormat(format: Format, file: Buffer): Promise<Read> {
  switch (format) {
    case 'docx':
      return readDocx(file);
    case 'odt':
      return readOdt(file);
    case 'doc': {
      const d = await legacyDocText(file);
      // Footnotes, endnotes and comments after the body, as for a DOCX.
      return { pages: [[d.body.trimEnd(), d.footnotes, d.endnotes, d.comments].filter((t) => t.trim()).join('\n')], props: { ...oleSummary(file) } };
    }
    case 'rtf': {
      const d = parseRtf(file);
      return { pages: [d.text + (d.footnotes ? `\n${d.footnotes}` : '')], props: d.info };
    }
    case 'epub':
      return readEpub(file);
    case 'xlsx':
      return readXlsx(file);
    case 'ods':
      return readOds(file);
    case 'xls':
      return sheetPages(xlsSheets(file), { ...oleSummary(file) });
    case 'pptx':
    case 'ppsx':
      return readPptx(file);
    case 'odp':
      return readOdp(file);
    case 'ppt':
      return readPpt(file);
  }
}

/**
 * Pages 1…n, at most MAX_TEXT_PAGES (as for plain text and PDF): the text of any beyond is kept on
 * the last page. Every slide, section or sheet is a page, empty ones too, so page n is part n.
 */
function numbered(pages: string[]): Array<{ page: number; text: string }> {
  const kept = pages.length > MAX_TEXT_PAGES ? [...pages.slice(0, MAX_TEXT_PAGES - 1), pages.slice(MAX_TEXT_PAGES - 1).join('\n\n')] : pages;
  return kept.map((text, i) => ({ page: i + 1, text }));
}

export const officeExtractor: Extractor = {
  kind: 'office',

  async extract(input: ExtractInput): Promise<ExtractResult> {
    await assertNotEmpty(input);
    const format = formatOf(input);
    const { pages, props } = await readFormat(format, await readFile(input.path));
    const { texts: clean, legacy } = documentTexts(pages);
    const chars = clean.reduce((n, p) => n + p.length, 0);
    return { metadata: { format, ...compact(documentProps(props)), chars, ...legacy }, pages: numbered(clean) };
  },

  async thumbnail(input: ExtractInput): Promise<ThumbnailResult> {
    await assertNotEmpty(input);
    const f = formatOf(input);
    if (f === 'doc' || f === 'ppt' || f === 'xls' || f === 'rtf') return { derivatives: [], note: 'no picture for this kind' };
    const zip = await readFile(input.path);
    // An e-book's cover image; the preview an editor saved otherwise.
    const cover = f === 'epub' ? epubBook((wanted) => readZipEntries(zip, (n) => n === 'META-INF/container.xml' || (wanted(n) && /\.opf$/i.test(n)), 16 * 1024 * 1024)).cover : undefined;
    const names = cover !== undefined ? [cover] : THUMBS;
    const entries = readZipEntries(zip, (n) => names.includes(n), 16 * 1024 * 1024);
    const preview = names.map((n) => entries.get(n)).find(Boolean);
    if (preview) {
      try {
        return { derivatives: await writeThumbnails({ buffer: Buffer.from(preview) }, input.workDir, { maxPixels: input.limits.maxImagePixels }) };
      } catch {
        /* an undecodable preview (e.g. EMF) means no picture */
      }
    }
    return { derivatives: [], note: 'no picture for this kind' };
  },
};
