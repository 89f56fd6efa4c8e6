/**
 * The only module that talks to pdf.js (pdfjs-dist, the engine pdf-parse v2 wraps; used directly
 * for per-page control, deadlines and parallelism). pdf.js itself runs in `pdf-worker.mjs` threads:
 *
 * - up to two helper threads per process, started on first use and kept warm between jobs
 *   (unref'd: they never keep the process alive), 512 MB heap cap each;
 * - long documents: both threads take pages from one shared counter, so a book uses both cores;
 * - a request past its deadline terminates its thread (even inside one endless page);
 * - before pdf.js sees a file, non-image Flate streams are inflated with a cap (decompression bombs);
 * - errors map to PDF_ENCRYPTED / PDF_MALFORMED / PDF_TOO_MANY_PAGES / PDF_DECOMPRESSION_BOMB / TIMEOUT.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { inflateSync, constants as zlibConstants } from 'node:zlib';
import { readFile, stat } from 'node:fs/promises';
import { PermanentExtractError } from '../extractors/types.ts';
import type { RawPixels } from './sharp.ts';

/** More pages than this is treated as hostile. */
export const MAX_PDF_PAGES = 10_000;
/** Below this many pages, a second thread costs more than it saves. */
const PARALLEL_MIN_PAGES = 24;
/**
 * Each pdf.js thread holds the whole file in memory, and so does the bomb scan: above this size
 * (scanned books) only one thread reads it and the scan is skipped (bombs are small files; a big
 * one still meets the worker's memory cap).
 */
const BIG_FILE_BYTES = 128 * 1024 * 1024;
/** One non-image stream may expand to at most this much; all of them together to MAX_TOTAL_INFLATE. */
export const MAX_STREAM_INFLATE = 64 * 1024 * 1024;
export const MAX_TOTAL_INFLATE = 512 * 1024 * 1024;

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
  /** Each page's label ("i", "ii", "1", …) when the PDF has /PageLabels that differ from 1..n. */
  pageLabels?: string[];
}

/** Longest page label kept (a label is a prefix and a number; longer ones are cut). */
const MAX_PAGE_LABEL = 40;

/**
 * The labels pdf.js read from /PageLabels, cleaned (NFC, no controls, trimmed, at most MAX_PAGE_LABEL
 * characters; an empty label becomes the page number), or undefined when there are none or they are
 * just 1..n, or their count is not the page count.
 */
export function pageLabelsOf(labels: unknown, pages: number): string[] | undefined {
  if (!Array.isArray(labels) || labels.length !== pages || pages === 0) return undefined;
  const out = labels.map((l, i) => {
    const s = typeof l === 'string' ? l.normalize('NFC').replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim().slice(0, MAX_PAGE_LABEL) : '';
    return s || String(i + 1);
  });
  return out.every((l, i) => l === String(i + 1)) ? undefined : out;
}

export interface PdfPageText {
  page: number;
  text: string;
  error?: string;
}

function mapPdfError(err: unknown): never {
  if (err instanceof PermanentExtractError) throw err;
  const e = err as { name?: string; message?: string };
  const name = e?.name ?? '';
  const message = String(e?.message ?? err);
  if (name === 'PasswordException' || /password/i.test(message)) {
    throw new PermanentExtractError('PDF_ENCRYPTED', 'The PDF is password-protected; its text and preview cannot be read');
  }
  if (/out of memory|ERR_WORKER_OUT_OF_MEMORY/i.test(message + name)) {
    throw new PermanentExtractError('PDF_MALFORMED', 'Reading the PDF needed more memory than allowed; the file is probably hostile or damaged');
  }
  if (name === 'InvalidPDFException' || name === 'FormatError' || name === 'UnknownErrorException' || name === 'MissingPDFException' || /invalid pdf|circular|xref|bad|unexpected|format/i.test(message)) {
    throw new PermanentExtractError('PDF_MALFORMED', `The PDF is damaged and cannot be read: ${message.slice(0, 200)}`);
  }
  throw err instanceof Error ? err : new Error(message);
}

/**
 * pdf.js inflates a page's content stream whole and then interprets every operator, so a small
 * file with a huge content stream pins a core and gigabytes of memory. Every FlateDecode stream
 * that is not an image is inflated here with an output cap first (cheap: a bomb stops at the cap;
 * image streams are bounded by pdf.js's maxImageSize when rendering).
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

// ---------- helper threads ----------

interface Helper {
  worker: Worker;
  busy: Promise<unknown>;
}
const helpers: Array<Helper | null> = [null, null];
let nextId = 1;

function helper(i: number): Helper {
  const existing = helpers[i];
  if (existing) return existing;
  const worker = new Worker(new URL('./pdf-worker.mjs', import.meta.url), {
    // Plain JS worker: never inherit a TypeScript loader or test-runner flags.
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: 512 },
  });
  worker.unref();
  const h: Helper = { worker, busy: Promise.resolve() };
  const forget = () => {
    if (helpers[i] === h) helpers[i] = null;
  };
  worker.on('error', forget);
  worker.on('exit', forget);
  helpers[i] = h;
  return h;
}

function request<T>(i: number, msg: Record<string, unknown>, deadline: number): Promise<T> {
  const h = helper(i);
  const run = h.busy.catch(() => {}).then(() => new Promise<T>((resolve, reject) => {
    const id = nextId++;
    const { worker } = h;
    const done = () => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const kill = (err: Error) => {
      done();
      if (helpers[i] === h) helpers[i] = null;
      void worker.terminate();
      reject(err);
    };
    const timer = setTimeout(() => kill(new PermanentExtractError('TIMEOUT', 'Time limit reached while reading the PDF')), Math.max(1, deadline - Date.now()) + 1000);
    const onMessage = (m: { id: number; result?: T; error?: { name: string; message: string } }) => {
      if (m.id !== id) return;
      done();
      if (m.error) reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
      else resolve(m.result as T);
    };
    const onError = (err: Error) => kill(Object.assign(new Error(err.message), { name: (err as { code?: string }).code ?? err.name }));
    const onExit = (code: number) => kill(new PermanentExtractError('PDF_MALFORMED', `The PDF reader stopped (exit ${code}); the file is probably hostile or damaged`));
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
    worker.postMessage({ ...msg, id });
  }));
  h.busy = run;
  return run;
}

/** Stops the helper threads (tests, shutdown). */
export async function stopPdfHelpers(): Promise<void> {
  const hs = helpers.splice(0, helpers.length, null, null);
  await Promise.all(hs.map((h) => h?.worker.terminate()));
}

/** Lets the helper threads drop the document of the finished job (memory), keeping pdf.js loaded. */
export async function releasePdf(): Promise<void> {
  await Promise.all(helpers.map((h, i) => (h ? request(i, { op: 'close' }, Date.now() + 5000).catch(() => {}) : undefined)));
}

// ---------- operations ----------

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

/**
 * PDFDocEncoding as pdf.js reads it (`stringToPDFString`): bytes 0x18–0x1F and 0x80–0xA0 stand for
 * the signs below, every other byte for the Latin-1 character of its code. Indexed by byte.
 */
const PDF_DOC_SIGNS: Record<number, number> = {
  0x18: 0x2d8, 0x19: 0x2c7, 0x1a: 0x2c6, 0x1b: 0x2d9, 0x1c: 0x2dd, 0x1d: 0x2db, 0x1e: 0x2da, 0x1f: 0x2dc,
  0x80: 0x2022, 0x81: 0x2020, 0x82: 0x2021, 0x83: 0x2026, 0x84: 0x2014, 0x85: 0x2013, 0x86: 0x192, 0x87: 0x2044,
  0x88: 0x2039, 0x89: 0x203a, 0x8a: 0x2212, 0x8b: 0x2030, 0x8c: 0x201e, 0x8d: 0x201c, 0x8e: 0x201d, 0x8f: 0x2018,
  0x90: 0x2019, 0x91: 0x201a, 0x92: 0x2122, 0x93: 0xfb01, 0x94: 0xfb02, 0x95: 0x141, 0x96: 0x152, 0x97: 0x160,
  0x98: 0x178, 0x99: 0x17d, 0x9a: 0x131, 0x9b: 0x142, 0x9c: 0x153, 0x9d: 0x161, 0x9e: 0x17e, 0xa0: 0x20ac,
};
const PDF_DOC_BYTE = new Map(Object.entries(PDF_DOC_SIGNS).map(([b, c]) => [c, Number(b)]));

/**
 * An Info string that a writer stored as UTF-8 bytes without a BOM (not allowed by the PDF spec, but
 * common: FPDF/TCPDF-era generators and some Vietnamese office tools do it) comes out of pdf.js read
 * as PDFDocEncoding, "Lá»– há»Ži" for "Lễ hội". When the string maps back to bytes (every character
 * is one PDFDocEncoding byte) and those bytes are valid UTF-8 with at least one multi-byte sequence,
 * it is read as UTF-8. Real PDFDocEncoding text ("Café": a lone E9) is no valid UTF-8 and is left as
 * it is; a UTF-16 string with a Vietnamese letter has characters no byte stands for.
 */
export function pdfDocStringAsUtf8(s: string): string {
  if (!/[^\u0000-\u007f]/.test(s)) return s;
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const b = PDF_DOC_BYTE.get(c) ?? (c <= 0xff && PDF_DOC_SIGNS[c] === undefined ? c : -1);
    if (b < 0) return s;
    bytes[i] = b;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return s;
  }
}

/** An Info dictionary string: as `str`, raw UTF-8 read as such. */
const infoStr = (v: unknown) => str(typeof v === 'string' ? pdfDocStringAsUtf8(v) : v);

async function checkedFile(path: string): Promise<number> {
  const { size } = await stat(path);
  if (size <= BIG_FILE_BYTES) assertNoDecompressionBomb(await readFile(path));
  return size;
}

/** Opens the PDF (after the bomb check) and reads its properties and page count. */
export async function readPdfInfo(path: string, deadline: number): Promise<PdfDocumentInfo> {
  await checkedFile(path);
  let r: { numPages: number; info: Record<string, unknown>; xmp: Record<string, string>; encrypted: boolean; attachments: number; pageLabels: unknown };
  try {
    r = await request(0, { op: 'open', path, maxPages: MAX_PDF_PAGES }, deadline);
  } catch (err) {
    mapPdfError(err);
  }
  if (r.numPages > MAX_PDF_PAGES) {
    throw new PermanentExtractError('PDF_TOO_MANY_PAGES', `The PDF has ${r.numPages} pages (limit ${MAX_PDF_PAGES})`);
  }
  const i = r.info;
  const x = (k: string) => str(r.xmp[k]);
  return {
    pages: r.numPages,
    pdfVersion: str(i.PDFFormatVersion),
    encrypted: r.encrypted || Boolean(i.IsEncrypted),
    title: infoStr(i.Title) ?? x('dc:title'),
    author: infoStr(i.Author) ?? x('dc:creator'),
    subject: infoStr(i.Subject) ?? x('dc:description'),
    keywords: infoStr(i.Keywords) ?? x('pdf:keywords'),
    creator: infoStr(i.Creator) ?? x('xmp:creatortool'),
    producer: infoStr(i.Producer) ?? x('pdf:producer'),
    createdAt: pdfDateToIso(i.CreationDate) ?? x('xmp:createdate'),
    modifiedAt: pdfDateToIso(i.ModDate) ?? x('xmp:modifydate'),
    language: str(i.Language),
    attachments: r.attachments,
    pageLabels: pageLabelsOf(r.pageLabels, r.numPages),
  };
}

/** Written to a shared page counter to make every thread stop taking pages (far above any page number). */
const STOP_CLAIMING = 1 << 30;

/**
 * Text of every page (NFC), in page order; over both threads for long documents. Call after
 * readPdfInfo (thread 0 has the document open then; thread 1 parses it first).
 *
 * The threads share one page counter and each takes the next page from it, so the pages balance
 * themselves: thread 0 starts at once, thread 1 joins when it has parsed the document, and a thread
 * slowed down by other load on the machine simply takes fewer pages. If one thread fails (error,
 * time limit: then it is terminated), the counter is set past the end so the other stops after its
 * current page, and the job fails with the mapped code.
 */
export async function readPdfPages(path: string, pages: number, deadline: number, opts: { parallel?: boolean } = {}): Promise<PdfPageText[]> {
  const { size } = await stat(path);
  const parallel = (opts.parallel ?? true) && pages >= PARALLEL_MIN_PAGES && availableParallelism() > 1 && size <= BIG_FILE_BYTES;
  try {
    if (!parallel) return await request<PdfPageText[]>(0, { op: 'text', path, from: 1, to: pages, deadline }, deadline);
    const claim = new Int32Array(new SharedArrayBuffer(4));
    claim[0] = 1;
    const msg = { op: 'text', path, from: 1, to: pages, deadline, claim: claim.buffer };
    const parts = await Promise.all([0, 1].map((i) => request<PdfPageText[]>(i, msg, deadline).catch((err: unknown) => {
      Atomics.store(claim, 0, STOP_CLAIMING);
      throw err;
    })));
    const out = parts.flat().sort((a, b) => a.page - b.page);
    if (out.length !== pages || out.some((p, i) => p.page !== i + 1)) {
      throw new Error(`PDF text threads returned ${out.length} pages for ${pages}`);
    }
    return out;
  } catch (err) {
    mapPdfError(err);
  }
}

/** Renders page `n` with its long side at `longSide` px, on white, as RGBA. Call after readPdfInfo. */
export async function renderPdfPage(path: string, n: number, longSide: number, deadline: number): Promise<RawPixels> {
  try {
    const r = await request<{ width: number; height: number; data: ArrayBuffer }>(0, { op: 'render', path, page: n, longSide }, deadline);
    return { data: Buffer.from(r.data), width: r.width, height: r.height, channels: 4 };
  } catch (err) {
    mapPdfError(err);
  }
}
