/**
 * PDF extractor.
 *
 * Metadata keys: `pages`, `pdfVersion`, `encrypted` (false for readable files; an owner-password-only
 * file that opens is `true`), `title`, `author`, `subject`, `keywords`, `creator`, `producer`,
 * `createdAt`, `modifiedAt` (ISO 8601), `language`, `attachments` (embedded files count),
 * `textChars` (characters of text found), `pagesWithoutText`, `failedPages` (pages that could not
 * be read; present only when some failed).
 *
 * Text: one entry per page (NFC); an empty page is stored as ''. Thumbnail: page 1 rendered at
 * 1024 px on the long side, on white.
 * Failures: EMPTY_FILE, PDF_ENCRYPTED (user password), PDF_MALFORMED (unreadable, or no page
 * readable; for the thumbnail also no page at all), PDF_TOO_MANY_PAGES (more than MAX_PDF_PAGES claimed), TIMEOUT.
 */
import { MAX_PDF_PAGES, readPdfInfo, readPdfPages, releasePdf, renderPdfPage } from '../adapters/pdf.ts';
import { writeThumbnails } from '../adapters/sharp.ts';
import { assertNotEmpty, checkDeadline, compact, documentProps, documentTexts } from './common.ts';
import { PermanentExtractError, THUMB_SIZES, type ExtractInput, type ExtractResult, type Extractor, type ThumbnailResult } from './types.ts';

export { MAX_PDF_PAGES };

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
      const pages = raw.map((p, i) => ({ page: p.page, text: texts[i] }));
      const metadata = compact({
        ...documentProps(info),
        ...legacy,
        textChars: pages.reduce((n, p) => n + p.text.length, 0),
        pagesWithoutText: pages.filter((p) => !p.text).length,
        failedPages: failed.length ? failed.slice(0, 100) : undefined,
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
      const raw = await renderPdfPage(input.path, 1, Math.max(...THUMB_SIZES), deadline);
      return { derivatives: await writeThumbnails({ raw }, input.workDir, { maxPixels: maxImagePixels }) };
    } finally {
      await releasePdf();
    }
  },
};
