// Per-page PDF text with pdfjs-dist (the engine inside pdf-parse v2). Plain JavaScript on purpose:
// this file is both imported by pdf.ts (small documents, same thread) and started as a worker
// thread by pdf.ts (long documents, page ranges split across cores), and a worker cannot rely on
// the TypeScript loader of its parent. Only pdf.ts uses this file.
import { readFile } from 'node:fs/promises';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// The legacy build (the one for Node) bundles core-js, which swaps the native Array.prototype.push
// and JSON.parse for spec-pedantic JavaScript versions, process-wide. They made text extraction
// about a third slower (and everything else in the worker process with it). pdf.js does not need
// them: load both halves of pdf.js now (the "fake worker" half is taken from globalThis.pdfjsWorker)
// and put the native functions back.
const nativePush = Array.prototype.push;
const nativeJsonParse = JSON.parse;
const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
globalThis.pdfjsWorker ??= await import('pdfjs-dist/legacy/build/pdf.worker.mjs');
for (const [owner, name, fn] of [[Array.prototype, 'push', nativePush], [JSON, 'parse', nativeJsonParse]]) {
  if (owner[name] !== fn) Object.defineProperty(owner, name, { value: fn, writable: true, configurable: true, enumerable: false });
}

const require = createRequire(import.meta.url);
const pdfjsRoot = dirname(require.resolve('pdfjs-dist/package.json'));

/** Options shared by every pdfjs document we open: no eval, no fonts loaded into the process, bounded images. */
export function documentOptions(data) {
  return {
    data,
    verbosity: 0,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
    maxImageSize: 64 * 1024 * 1024,
    cMapUrl: join(pdfjsRoot, 'cmaps') + '/',
    cMapPacked: true,
    standardFontDataUrl: join(pdfjsRoot, 'standard_fonts') + '/',
    wasmUrl: join(pdfjsRoot, 'wasm') + '/',
  };
}

export function openDocument(data) {
  return pdfjs.getDocument(documentOptions(data)).promise;
}

/** Joins text items into lines: a new line when the baseline moves, a space across a visible gap. */
export function itemsToText(items) {
  let out = '';
  let lastY = null;
  let lastXEnd = null;
  for (const it of items) {
    if (typeof it.str !== 'string') continue;
    const x = it.transform[4];
    const y = it.transform[5];
    const h = Math.abs(it.height || it.transform[3] || 10);
    if (lastY !== null && Math.abs(y - lastY) > Math.max(1, h * 0.5)) {
      if (!out.endsWith('\n')) out += '\n';
    } else if (lastXEnd !== null && x - lastXEnd > h * 0.2 && it.str && !/\s$/.test(out) && !/^\s/.test(it.str)) {
      out += ' ';
    }
    out += it.str;
    if (it.hasEOL && !out.endsWith('\n')) out += '\n';
    lastY = y;
    lastXEnd = x + (it.width || 0);
  }
  return out.normalize('NFC');
}

/**
 * Text of pages [from, to] (1-based, inclusive). A page that fails is returned with an error
 * instead of stopping the document; past the deadline the remaining pages are marked as timed out.
 */
export async function extractRange(doc, from, to, deadline) {
  const pages = [];
  for (let n = from; n <= to; n++) {
    if (Date.now() > deadline) {
      pages.push({ page: n, text: '', error: 'TIMEOUT' });
      continue;
    }
    let page;
    try {
      page = await doc.getPage(n);
      const content = await page.getTextContent({ includeMarkedContent: false, disableNormalization: false });
      pages.push({ page: n, text: itemsToText(content.items) });
    } catch (err) {
      pages.push({ page: n, text: '', error: String(err && err.message ? err.message : err).slice(0, 200) });
    } finally {
      page?.cleanup();
    }
  }
  return pages;
}

// Worker entry: a long-lived helper thread; each message { id, path, from, to, deadline } is
// answered with { id, pages } or { id, error }. One request at a time (pdf.ts queues them).
if (!isMainThread && workerData && workerData.kind === 'kho-pdf-text') {
  parentPort.on('message', async ({ id, path, from, to, deadline }) => {
    let doc;
    try {
      doc = await openDocument(new Uint8Array(await readFile(path)));
      parentPort.postMessage({ id, pages: await extractRange(doc, from, to, deadline) });
    } catch (err) {
      parentPort.postMessage({ id, error: { name: err?.name ?? 'Error', message: String(err?.message ?? err) } });
    } finally {
      await doc?.destroy().catch(() => {});
    }
  });
}
