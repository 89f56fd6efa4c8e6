/**
 * The only module that drives pdf.js (pdfjs-dist, the engine pdf-parse v2 wraps; used directly for
 * per-page control, deadlines and page-range parallelism). Its helper `pdf-text.mjs` holds the
 * text loop so the same code runs in this thread or in a worker thread.
 *
 * - one pdf.js document per file, always destroyed (a document is unusable after a failure);
 * - long documents: the page range is split in two, one half in a worker thread, one here, so a
 *   350-page book uses both cores; the worker is terminated on error or past the deadline;
 * - errors map to PDF_ENCRYPTED / PDF_MALFORMED / PDF_TOO_MANY_PAGES / TIMEOUT.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { inflateSync, constants as zlibConstants } from 'node:zlib';
import type { PDFDocumentProxy } from 'pdfjs-dist/types/src/display/api.d.ts';
import { extractRange, openDocument, type RangePage } from './pdf-text.mjs';
import { PermanentExtractError } from '../extractors/types.ts';
import type { RawPixels } from './sharp.ts';

/** More claimed pages than this is treated as hostile. */
export const MAX_PDF_PAGES = 10_000;
/** Below this many pages, starting a worker thread costs more than it saves. */
const PARALLEL_MIN_PAGES = 24;

export interface PdfDocumentInfo {
  pages: number;
  pdfVersion?: string;
  encrypted: boolean;
  title?: string;
  author?: string;
  subject?: string;
  keywords?: string;
  creator?: string;
  producer?: string;
  createdAt?: string;
  modifiedAt?: string;
  language?: string;
  attachments: number;
}

function mapPdfError(err: unknown): never {
  if (err instanceof PermanentExtractError) throw err;
  const e = err as { name?: string; message?: string };
  const name = e?.name ?? '';
  const message = String(e?.message ?? err);
  if (name === 'PasswordException' || /password/i.test(message)) {
    throw new PermanentExtractError('PDF_ENCRYPTED', 'The PDF is password-protected; its text and preview cannot be read');
  }
  if (name === 'InvalidPDFException' || name === 'FormatError' || name === 'UnknownErrorException' || name === 'MissingPDFException' || /invalid pdf|circular|xref|bad|unexpected|format/i.test(message)) {
    throw new PermanentExtractError('PDF_MALFORMED', `The PDF is damaged and cannot be read: ${message.slice(0, 200)}`);
  }
  throw err instanceof Error ? err : new Error(message);
}

/** One non-image stream may expand to at most this much; all of them together to MAX_TOTAL_INFLATE. */
export const MAX_STREAM_INFLATE = 64 * 1024 * 1024;
export const MAX_TOTAL_INFLATE = 512 * 1024 * 1024;

/**
 * pdf.js inflates a page's content stream whole and then interprets every operator, so a small
 * file with a huge content stream pins a core and gigabytes of memory. Before opening, every
 * FlateDecode stream that is not an image is inflated with an output cap (cheap: a bomb stops at
 * the cap; image streams are bounded by pdf.js's maxImageSize when rendering).
 */
export function assertNoDecompressionBomb(buf: Buffer): void {
  let pos = 0;
  let total = 0;
  for (;;) {
    const s = buf.indexOf('stream', pos, 'latin1');
    if (s < 0) return;
    pos = s + 6;
    if (s >= 3 && buf.toString('latin1', s - 3, s) === 'end') continue;
    let start = s + 6;
    if (buf[start] === 0x0d) start++;
    if (buf[start] === 0x0a) start++;
    else if (buf[start - 1] !== 0x0d) continue;
    const dict = buf.toString('latin1', Math.max(0, s - 2048), s);
    const lastObj = dict.lastIndexOf(' obj');
    const own = lastObj >= 0 ? dict.slice(lastObj) : dict;
    if (!/\/FlateDecode|\/Fl\b/.test(own) || /\/Subtype\s*\/Image/.test(own)) continue;
    const end = buf.indexOf('endstream', start, 'latin1');
    if (end < 0) return;
    pos = end + 9;
    const limit = Math.min(MAX_STREAM_INFLATE, MAX_TOTAL_INFLATE - total);
    try {
      total += inflateSync(buf.subarray(start, end), { maxOutputLength: limit, finishFlush: zlibConstants.Z_SYNC_FLUSH }).length;
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        throw new PermanentExtractError('PDF_DECOMPRESSION_BOMB', `A compressed stream of the PDF expands beyond ${Math.round(limit / 1048576)} MB (decompression bomb)`);
      }
      // Encrypted or damaged stream: pdf.js decides what to do with it.
    }
  }
}

/** Opens a PDF from disk; the caller must `destroy()` it. */
export async function openPdf(path: string): Promise<PDFDocumentProxy> {
  const file = await readFile(path);
  assertNoDecompressionBomb(file);
  const data = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  try {
    return await openDocument(data);
  } catch (err) {
    mapPdfError(err);
  }
}

/** `D:20230101120000+07'00'` → ISO 8601; undefined when unparseable. */
export function pdfDateToIso(s: unknown): string | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*([Zz+-])?(\d{2})?'?(\d{2})?/.exec(s.trim());
  if (!m) return undefined;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', se = '00', z, zh = '00', zm = '00'] = m;
  const zone = !z || z === 'Z' || z === 'z' ? 'Z' : `${z}${zh}:${zm}`;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${se}${zone}`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.replace(/\u0000/g, '').trim().normalize('NFC') : undefined);

/** Document properties from the Info dictionary, falling back to XMP. */
export async function readPdfInfo(doc: PDFDocumentProxy): Promise<PdfDocumentInfo> {
  if (doc.numPages > MAX_PDF_PAGES) {
    throw new PermanentExtractError('PDF_TOO_MANY_PAGES', `The PDF claims ${doc.numPages} pages (limit ${MAX_PDF_PAGES})`);
  }
  try {
    const { info, metadata } = await doc.getMetadata();
    const i = (info ?? {}) as Record<string, unknown>;
    const xmp = (k: string) => str(metadata?.get(k));
    const permissions = await doc.getPermissions().catch(() => null);
    const attachments = await doc.getAttachments().catch(() => null);
    return {
      pages: doc.numPages,
      pdfVersion: str(i.PDFFormatVersion),
      encrypted: permissions !== null || Boolean(i.IsEncrypted),
      title: str(i.Title) ?? xmp('dc:title'),
      author: str(i.Author) ?? xmp('dc:creator'),
      subject: str(i.Subject) ?? xmp('dc:description'),
      keywords: str(i.Keywords) ?? xmp('pdf:keywords'),
      creator: str(i.Creator) ?? xmp('xmp:creatortool'),
      producer: str(i.Producer) ?? xmp('pdf:producer'),
      createdAt: pdfDateToIso(i.CreationDate) ?? str(xmp('xmp:createdate')),
      modifiedAt: pdfDateToIso(i.ModDate) ?? str(xmp('xmp:modifydate')),
      language: str(i.Language),
      attachments: attachments ? Object.keys(attachments).length : 0,
    };
  } catch (err) {
    mapPdfError(err);
  }
}

/**
 * A helper thread kept warm between jobs of the same worker process (pdf.js loaded and JIT-compiled
 * once). It never keeps the process alive, serves one request at a time, and is terminated and
 * forgotten on any error or timeout.
 */
let helper: { worker: Worker; busy: Promise<unknown> } | null = null;
let nextId = 1;

function getHelper() {
  if (!helper) {
    const worker = new Worker(new URL('./pdf-text.mjs', import.meta.url), {
      workerData: { kind: 'kho-pdf-text' },
      // Plain JS worker: never inherit a TypeScript loader or test-runner flags.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: 512 },
    });
    worker.unref();
    const h = { worker, busy: Promise.resolve() as Promise<unknown> };
    worker.on('error', () => { if (helper === h) helper = null; });
    worker.on('exit', () => { if (helper === h) helper = null; });
    helper = h;
  }
  return helper;
}

/** Stops the warm helper thread (tests, shutdown). */
export async function stopPdfHelper(): Promise<void> {
  const h = helper;
  helper = null;
  if (h) await h.worker.terminate();
}

function rangeInWorker(path: string, from: number, to: number, deadline: number): Promise<RangePage[]> {
  const h = getHelper();
  const run = h.busy.catch(() => {}).then(() => new Promise<RangePage[]>((resolve, reject) => {
    const id = nextId++;
    const { worker } = h;
    const cleanup = () => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const kill = (err: Error) => {
      cleanup();
      if (helper === h) helper = null;
      void worker.terminate();
      reject(err);
    };
    const timer = setTimeout(() => kill(new PermanentExtractError('TIMEOUT', 'Time limit reached while reading PDF text')), Math.max(1, deadline - Date.now()) + 2000);
    const onMessage = (msg: { id: number; pages?: RangePage[]; error?: { name: string; message: string } }) => {
      if (msg.id !== id) return;
      cleanup();
      if (msg.pages) resolve(msg.pages);
      else reject(Object.assign(new Error(msg.error?.message ?? 'PDF worker failed'), { name: msg.error?.name ?? 'Error' }));
    };
    const onError = (err: Error) => kill(new PermanentExtractError('PDF_MALFORMED', `The PDF text reader failed: ${err.message}`));
    const onExit = (code: number) => kill(new PermanentExtractError('PDF_MALFORMED', `The PDF text reader stopped (exit ${code}); the file is probably hostile or damaged`));
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
    worker.postMessage({ id, path, from, to, deadline });
  }));
  h.busy = run;
  return run;
}

/**
 * Text of every page (NFC). Uses a second core for long documents. Pages that fail are returned
 * with `error`; the caller decides whether that is fatal.
 */
export async function readPdfPages(doc: PDFDocumentProxy, path: string, deadline: number, opts: { parallel?: boolean } = {}): Promise<RangePage[]> {
  const n = doc.numPages;
  const parallel = (opts.parallel ?? true) && n >= PARALLEL_MIN_PAGES && availableParallelism() > 1;
  try {
    if (!parallel) return await extractRange(doc, 1, n, deadline);
    // Half here, half in the helper thread (which re-opens the file: pdf.js documents cannot be shared).
    const split = Math.ceil(n * 0.5);
    const [head, tail] = await Promise.all([extractRange(doc, 1, split, deadline), rangeInWorker(path, split + 1, n, deadline)]);
    return head.concat(tail);
  } catch (err) {
    mapPdfError(err);
  }
}

/** Renders page `n` with its long side at `longSide` px, on white, as RGBA. */
export async function renderPage(doc: PDFDocumentProxy, n: number, longSide: number): Promise<RawPixels> {
  try {
    const page = await doc.getPage(n);
    try {
      const base = page.getViewport({ scale: 1 });
      const scale = longSide / Math.max(base.width, base.height, 1);
      const viewport = page.getViewport({ scale });
      const width = Math.max(1, Math.round(viewport.width));
      const height = Math.max(1, Math.round(viewport.height));
      const factory = (doc as unknown as { canvasFactory: { create(w: number, h: number): { canvas: unknown; context: CanvasRenderingContext2D } } }).canvasFactory;
      const { canvas, context } = factory.create(width, height);
      context.fillStyle = '#ffffff';
      context.fillRect(0, 0, width, height);
      await page.render({ canvasContext: context, canvas: canvas as HTMLCanvasElement, viewport, background: 'rgb(255,255,255)' }).promise;
      const img = context.getImageData(0, 0, width, height);
      return { data: Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), width, height, channels: 4 };
    } finally {
      page.cleanup();
    }
  } catch (err) {
    mapPdfError(err);
  }
}
