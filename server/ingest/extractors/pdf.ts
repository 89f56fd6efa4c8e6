/**
 * PDF extractor.
 *
 * Metadata keys: `pages`, `pdfVersion`, `encrypted` (false for readable files; an owner-password-only
 * file that opens is `true`), `title`, `author`, `subject`, `keywords`, `creator`, `producer`,
 * `createdAt`, `modifiedAt` (ISO 8601), `language`, `attachments` (embedded files count),
 * `textChars` (characters of text found), `pagesWithoutText` (garbled pages included), `failedPages`
 * (pages that could not be read; present only when some failed), `garbledPages` (pages whose text is
 * mostly not words, stored as '': see garbled.ts; present only when some are).
 *
 * Text: one entry per page (NFC), a page's form field values and annotation notes after its text;
 * an empty page is stored as ''. Thumbnail: page 1 rendered at 1024 px on the long side, on white
 * (page 2 or 3 when the pages before it are blank).
 * Failures: EMPTY_FILE, PDF_ENCRYPTED (user password), PDF_MALFORMED (unreadable, or no page
 * readable; for the thumbnail also no page at all), PDF_TOO_MANY_PAGES (more than MAX_PDF_PAGES claimed), TIMEOUT.
 */
import { MAX_PDF_PAGES, readPdfInfo, readPdfPages, releasePdf, renderPdfPage } from '../adapters/pdf.ts';
import { writeThumbnails, type RawPixels } from '../adapters/sharp.ts';
import { assertNotEmpty, checkDeadline, compact, documentProps, documentTexts } from './common.ts';
import { isGarbled } from './garbled.ts';
import { PermanentExtractError, THUMB_SIZES, type ExtractInput, type ExtractResult, type Extractor, type ThumbnailResult } from './types.ts';

export { MAX_PDF_PAGES };

/** Blank pages at the start of a PDF passed over for its thumbnail. */
const BLANK_PAGES_SKIPPED = 2;

/** A rendered page of one colour: no channel of any pixel more than 8 levels from the first pixel's. */
export function isBlank(raw: RawPixels): boolean {
  const { data, channels } = raw;
  const ref = data.subarray(0, channels);
  for (let i = 0; i < data.length; i += channels) {
    for (let c = 0; c < channels; c++) if (Math.abs(data[i + c] - ref[c]) > 8) return false;
  }
  return true;
}

export const pdfExtractor: Extractor = {
  kind: 'pdf',

  async extract(input: ExtractInput): Promise<ExtractResult> {
    await assertNotEmpty(input);
    const { deadline } = input.limits;
    try {
      const info = await readPdfInfo(input.path, deadline);
      checkDeadline(input, 'reading the PDF');
      const raw = await readPdfPages(input.path, info.pages, deadline);
      const timedOut = raw.filter((p) => p.error === 'TIMEOUT').length;
      if (timedOut) throw new PermanentExtractError('TIMEOUT', `Time limit reached after ${raw.length - timedOut} of ${raw.length} pages`);
      const failed = raw.filter((p) => p.error).map((p) => p.page);
      if (failed.length === raw.length && raw.length > 0) {
        throw new PermanentExtractError('PDF_MALFORMED', `No page of the PDF could be read (${raw[0].error})`);
      }
      const { texts, legacy } = documentTexts(raw.map((p) => p.text));
      // A page whose text is mostly not words (glyph numbers read as letters: see garbled.ts) is not
      // stored as text: it would be indexed, shown in snippets and offered as suggestions.
      const garbled: number[] = [];
      const pages = raw.map((p, i) => {
        if (!isGarbled(texts[i])) return { page: p.page, text: texts[i] };
        garbled.push(p.page);
        return { page: p.page, text: '' };
      });
      const metadata = compact({
        ...documentProps(info),
        ...legacy,
        textChars: pages.reduce((n, p) => n + p.text.length, 0),
        pagesWithoutText: pages.filter((p) => !p.text).length,
        failedPages: failed.length ? failed.slice(0, 100) : undefined,
        garbledPages: garbled.length ? garbled : undefined,
      });
      // `encrypted: false` must survive compact().
      return { metadata: { ...metadata, encrypted: info.encrypted }, pages };
    } finally {
      await releasePdf();
    }
  },

  async thumbnail(input: ExtractInput): Promise<ThumbnailResult> {
    await assertNotEmpty(input);
    const { deadline, maxImagePixels } = input.limits;
    try {
      const info = await readPdfInfo(input.path, deadline); // bomb and page-count checks before any rendering
      // An empty page tree: pdf.js would refuse page 1 with a bare error that is retried as transient.
      if (info.pages === 0) throw new PermanentExtractError('PDF_MALFORMED', 'The PDF has no pages: there is nothing to preview');
      // A blank first page (the back of a cover, a page left for binding) says nothing about the
      // document: the next pages are tried, up to BLANK_PAGES_SKIPPED, and page 1 kept if all are blank.
      const first = await renderPdfPage(input.path, 1, Math.max(...THUMB_SIZES), deadline);
      let raw = first;
      for (let n = 2; isBlank(raw) && n <= Math.min(info.pages, 1 + BLANK_PAGES_SKIPPED); n++) raw = await renderPdfPage(input.path, n, Math.max(...THUMB_SIZES), deadline);
      if (isBlank(raw)) raw = first;
      return { derivatives: await writeThumbnails({ raw }, input.workDir, { maxPixels: maxImagePixels }) };
    } finally {
      await releasePdf();
    }
  },
};
