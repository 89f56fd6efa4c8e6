// pdf.js (pdfjs-dist, the engine inside pdf-parse v2) runs only here, in worker threads started by
// pdf.ts. Plain JavaScript on purpose: a worker must not depend on its parent's TypeScript loader,
// and loading pdf.js through a transpiling loader costs hundreds of MB per process. Running it in
// threads also means a page that never ends can be stopped (Worker.terminate) and its memory capped.
//
// Protocol, one request at a time: { id, op, ... } → { id, result } | { id, error: { name, message } }
//   open   { path, maxPages }           → { numPages, info, xmp, encrypted, attachments, pageLabels }
//   text   { path, from, to, deadline, claim? } → [{ page, text, error? }]
//          claim: a SharedArrayBuffer (one Int32, the next page to take) shared by the threads that
//          split the document: each takes pages from it until it passes `to`, so a thread that runs
//          faster (or starts earlier) takes more pages. Without it the thread reads [from, to] alone.
//   render { path, page, longSide }     → { width, height, data: ArrayBuffer (RGBA, transferred) }
//   close  {}                           → releases the open document
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { hasLateGlyphs, reorderLateGlyphs } from './pdf-lines.mjs';
import { fontCmapToUnicode } from './pdf-fonts.mjs';

// Two small changes to pdf.js's evaluator, each one condition or call added to a patched copy of its
// source (loaded from a private temp folder; if a pdf.js upgrade moves a line, that change is left
// out and the stock behaviour stays, and if neither applies, or no temp folder can be written, the
// stock module is loaded):
//
// - Gaps. pdf.js turns a gap narrower than 0.6 em inside a run of text into a space character with
//   no position of its own. On a page where some glyphs were drawn after the rest of their line (a
//   fallback font: pdf-lines.mjs), those positions are needed to put the glyphs back, so that page is
//   read a second time with `globalThis.__khoPdfSplitGaps` set, which makes every such gap a
//   positioned blank item instead (PartialEvaluator.getTextContent, addFakeSpaces). Without the
//   patch, late glyphs are placed by estimated character widths (pdf-lines.mjs).
// - Font cmaps. A composite font without a ToUnicode map (or with the identity for one) gives glyph
//   numbers, which pdf.js reads as code points ("1ৗLGXQJ" for "Nội dung"). Just before such a font's
//   glyph mapping is built (Font.checkAndRepair), `globalThis.__khoFontCmapToUnicode` reads the
//   embedded font's own cmap backwards (pdf-fonts.mjs) and, when it names letters, becomes the font's
//   ToUnicode. Without the patch the glyph numbers stay, and the extractor's garbled-text check keeps
//   them out of the index.
const PATCHES = [
  {
    name: 'splitGaps',
    anchor: 'if (textOrientation * textContentItem.spaceInFlowMin <= width && width <= textOrientation * textContentItem.spaceInFlowMax) {',
    at: 4, // after "if ("
    code: '!globalThis.__khoPdfSplitGaps && ',
  },
  {
    name: 'fontCmaps',
    anchor: 'const cidToGidMap = properties.cidToGidMap || [];',
    at: 0,
    code: 'if (globalThis.__khoFontCmapToUnicode && tables.cmap && this.toUnicode instanceof IdentityToUnicodeMap) { try { const khoMap = globalThis.__khoFontCmapToUnicode(tables.cmap.data, numGlyphs, properties); if (khoMap) properties.toUnicode = this.toUnicode = new ToUnicodeMap(khoMap); } catch {} }\n',
  },
];
const applied = new Set();
async function loadWorkerHalf() {
  try {
    // Bytes, not strings: the 2 MB source as UTF-16 strings (read, replaced) cost the thread's peak RSS
    // several times its size.
    const src = await readFile(require.resolve('pdfjs-dist/legacy/build/pdf.worker.mjs'));
    const cuts = [];
    for (const p of PATCHES) {
      const anchor = Buffer.from(p.anchor);
      const at = src.indexOf(anchor);
      if (at !== -1 && src.indexOf(anchor, at + 1) === -1) cuts.push({ p, pos: at + p.at });
    }
    if (cuts.length) {
      cuts.sort((a, b) => a.pos - b.pos);
      const parts = [];
      let from = 0;
      for (const { p, pos } of cuts) {
        parts.push(src.subarray(from, pos), Buffer.from(p.code));
        from = pos;
      }
      parts.push(src.subarray(from));
      const patched = Buffer.concat(parts);
      // Loaded from a file in a fresh private folder (mkdtemp: mode 0700, a random name no one else
      // can have made), removed once imported. A data: URL did the same for ~13 MB more per thread
      // (V8 keeps the URL, and the module's source, as strings).
      const dir = await mkdtemp(join(tmpdir(), 'kho-pdfjs-'));
      try {
        const file = join(dir, 'pdf.worker.mjs');
        await writeFile(file, patched, { mode: 0o600 });
        const mod = await import(pathToFileURL(file).href);
        for (const { p } of cuts) applied.add(p.name);
        return mod;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  } catch {
    // Fall through to the stock module.
  }
  return import('pdfjs-dist/legacy/build/pdf.worker.mjs');
}

// The legacy build (the one for Node) bundles core-js, which swaps the native Array.prototype.push
// and JSON.parse for slower JavaScript versions for the whole thread. pdf.js does not need them:
// load both halves of pdf.js (the "fake worker" half is taken from globalThis.pdfjsWorker) and put
// the native functions back.
const nativePush = Array.prototype.push;
const nativeJsonParse = JSON.parse;
const require = createRequire(import.meta.url);
const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
globalThis.pdfjsWorker ??= await loadWorkerHalf();
const canSplitGaps = applied.has('splitGaps');
globalThis.__khoFontCmapToUnicode = fontCmapToUnicode;
for (const [owner, name, fn] of [[Array.prototype, 'push', nativePush], [JSON, 'parse', nativeJsonParse]]) {
  if (owner[name] !== fn) Object.defineProperty(owner, name, { value: fn, writable: true, configurable: true, enumerable: false });
}

// pdf.js's "fake worker" (its core running in this same thread) still passes every message
// through structuredClone, which was about a third of text-extraction time: text content is
// thousands of small plain objects. While a `text` request runs, plain objects and arrays are
// copied by a plain JavaScript walk instead (the sender reassigns fields of objects it has sent, so
// a copy is needed); anything else (typed arrays, class instances, deep nesting) still goes to the
// native clone. Rendering keeps the native clone throughout, and a document that served text is
// reopened before it renders.
//
// Text-content chunks (stream messages whose `chunk` has an `items` array) are copied one level
// deep only: after sending one, the evaluator (PartialEvaluator.getTextContent, pdfjs-dist 5.4)
// gives the chunk object a new `items` array and `styles` object instead of changing the sent
// ones, never changes an item after pushing it, and the receiving side (PDFPageProxy.getTextContent)
// only reads them. Copying the items as well cost 5-8 % of the CPU time of a 350-page book (A/B
// runs). The corpus and extractor tests compare the text of every page, so a pdf.js upgrade that
// broke this would show there.
const nativeClone = globalThis.structuredClone;
let fastCloneOn = false;
function plainCopy(v, depth) {
  if (v === null || typeof v !== 'object') return v;
  if (depth > 32) return nativeClone(v);
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = plainCopy(v[i], depth + 1);
    return out;
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) return nativeClone(v);
  const out = {};
  for (const k of Object.keys(v)) out[k] = plainCopy(v[k], depth + 1);
  return out;
}
function textMessageCopy(value) {
  const chunk = value?.chunk;
  if (chunk && Array.isArray(chunk.items) && Object.getPrototypeOf(value) === Object.prototype && Object.getPrototypeOf(chunk) === Object.prototype) {
    return { ...value, chunk: { ...chunk } };
  }
  return plainCopy(value, 0);
}
globalThis.structuredClone = (value, options) => (fastCloneOn && !options?.transfer?.length ? textMessageCopy(value) : nativeClone(value, options));

const pdfjsRoot = dirname(require.resolve('pdfjs-dist/package.json'));

function documentOptions(data) {
  return {
    data,
    verbosity: 0,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
    // Images above 64 Mpx are skipped when rendering (image bombs).
    maxImageSize: 64 * 1024 * 1024,
    cMapUrl: join(pdfjsRoot, 'cmaps') + '/',
    cMapPacked: true,
    standardFontDataUrl: join(pdfjsRoot, 'standard_fonts') + '/',
    wasmUrl: join(pdfjsRoot, 'wasm') + '/',
  };
}

/**
 * A page's text. When some glyphs look drawn after the rest of their line, the page is read again
 * with every gap positioned and those glyphs are put back in place; if none of them lands in a gap
 * after all, the first reading stands.
 */
async function pageText(page) {
  const content = await page.getTextContent({ includeMarkedContent: false });
  if (!hasLateGlyphs(content.items)) return itemsToText(content.items);
  if (!canSplitGaps) return itemsToText(reorderLateGlyphs(content.items, content.styles));
  globalThis.__khoPdfSplitGaps = true;
  let split;
  try {
    split = await page.getTextContent({ includeMarkedContent: false });
  } finally {
    globalThis.__khoPdfSplitGaps = false;
  }
  const fixed = reorderLateGlyphs(split.items, split.styles, { gapsPositioned: true });
  return itemsToText(fixed === split.items ? content.items : fixed);
}

/**
 * What a page's annotations say that its content stream does not: the values filled in its form
 * fields (text fields and choices; not passwords, not check boxes) and the contents of its markup
 * annotations (sticky notes, free text, highlights and the like; not links or popups, whose text is
 * their parent's), one per line, after the page's text. pdf.js's text content has neither.
 */
async function annotationText(page) {
  const annots = await page.getAnnotations({ intent: 'display' }).catch(() => []);
  const lines = [];
  for (const a of annots) {
    if (a.subtype === 'Popup' || a.subtype === 'Link') continue;
    if (a.subtype === 'Widget') {
      if (a.fieldType === 'Tx' && !a.password && typeof a.fieldValue === 'string') lines.push(a.fieldValue);
      else if (a.fieldType === 'Ch') lines.push(...[a.fieldValue].flat().filter((v) => typeof v === 'string'));
      continue;
    }
    if (typeof a.contentsObj?.str === 'string') lines.push(a.contentsObj.str);
  }
  return lines.map((l) => l.replace(/\r\n?/g, '\n').trim()).filter(Boolean).join('\n').normalize('NFC');
}

/** Joins text items into lines: a new line when the baseline moves, a space across a visible gap. */
function itemsToText(items) {
  let out = '';
  // The last character of `out`, kept aside: testing the end of the growing string with a regular
  // expression flattens it on every item (quadratic in the page's length).
  let last = '';
  let lastY = null;
  let lastXEnd = null;
  for (const it of items) {
    const s = it.str;
    if (typeof s !== 'string') continue;
    const x = it.transform[4];
    const y = it.transform[5];
    const h = Math.abs(it.height || it.transform[3] || 10);
    if (lastY !== null && Math.abs(y - lastY) > Math.max(1, h * 0.5)) {
      if (last !== '\n') out += last = '\n';
    } else if (lastXEnd !== null && x - lastXEnd > h * 0.2 && s && !WHITESPACE.test(last) && !WHITESPACE.test(s[0])) {
      out += last = ' ';
    }
    if (s) {
      out += s;
      last = s[s.length - 1];
    }
    if (it.hasEOL && last !== '\n') out += last = '\n';
    lastY = y;
    lastXEnd = x + (it.width || 0);
  }
  return out.normalize('NFC');
}
const WHITESPACE = /^\s$/;

let current = null; // { path, doc, sharedObjects }

async function docFor(path, { forRendering = false } = {}) {
  if (current?.path === path && !(forRendering && current.sharedObjects)) return current.doc;
  await close();
  const data = await readFile(path);
  const doc = await pdfjs.getDocument(documentOptions(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))).promise;
  current = { path, doc, sharedObjects: false };
  return doc;
}

async function close() {
  const c = current;
  current = null;
  await c?.doc.destroy().catch(() => {});
}

const XMP_KEYS = ['dc:title', 'dc:creator', 'dc:description', 'pdf:keywords', 'pdf:producer', 'xmp:creatortool', 'xmp:createdate', 'xmp:modifydate'];

async function open({ path, maxPages = 10000 }) {
  const doc = await docFor(path);
  const { info, metadata } = await doc.getMetadata();
  const xmp = {};
  for (const k of XMP_KEYS) {
    const v = metadata?.get(k);
    if (v !== null && v !== undefined) xmp[k] = Array.isArray(v) ? v.join('; ') : String(v);
  }
  const permissions = await doc.getPermissions().catch(() => null);
  const attachments = await doc.getAttachments().catch(() => null);
  // The pages' labels (the /PageLabels number tree: "i", "ii", then "1", …), read only for a page count
  // the extractor accepts (pdf.js makes one string per page).
  const labels = doc.numPages <= maxPages ? await doc.getPageLabels().catch(() => null) : null;
  return { numPages: doc.numPages, info: info ?? {}, xmp, encrypted: permissions !== null, attachments: attachments ? Object.keys(attachments).length : 0, pageLabels: Array.isArray(labels) ? labels : null };
}

/** Text of pages [from, to]; a failing page is reported, not fatal; past the deadline pages are marked. */
async function text({ path, from, to, deadline, claim }) {
  const doc = await docFor(path);
  current.sharedObjects = true;
  fastCloneOn = true;
  try {
    return await textPages(doc, from, to, claim ? new Int32Array(claim) : null, deadline);
  } finally {
    fastCloneOn = false;
  }
}

async function textPages(doc, from, to, claim, deadline) {
  const pages = [];
  let own = from;
  for (;;) {
    const n = claim ? Atomics.add(claim, 0, 1) : own++;
    if (n > to) break;
    if (Date.now() > deadline) {
      pages.push({ page: n, text: '', error: 'TIMEOUT' });
      continue;
    }
    let page;
    try {
      page = await doc.getPage(n);
      const body = await pageText(page);
      const notes = await annotationText(page);
      pages.push({ page: n, text: notes ? (body ? `${body}\n${notes}` : notes) : body });
    } catch (err) {
      pages.push({ page: n, text: '', error: String(err?.message ?? err).slice(0, 200) });
    } finally {
      page?.cleanup();
    }
  }
  return pages;
}

/** Page `page` with its long side at `longSide` px, on white, as RGBA. */
async function render({ path, page: n, longSide }) {
  const doc = await docFor(path, { forRendering: true });
  const page = await doc.getPage(n);
  try {
    const base = page.getViewport({ scale: 1 });
    const viewport = page.getViewport({ scale: longSide / Math.max(base.width, base.height, 1) });
    const width = Math.max(1, Math.round(viewport.width));
    const height = Math.max(1, Math.round(viewport.height));
    const { canvas, context } = doc.canvasFactory.create(width, height);
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, width, height);
    await page.render({ canvasContext: context, canvas, viewport, background: 'rgb(255,255,255)' }).promise;
    const img = context.getImageData(0, 0, width, height);
    const data = img.data.buffer.slice(img.data.byteOffset, img.data.byteOffset + img.data.byteLength);
    return { result: { width, height, data }, transfer: [data] };
  } finally {
    page.cleanup();
  }
}

const OPS = { open, text, render, close };

if (!isMainThread && parentPort) {
  let chain = Promise.resolve();
  parentPort.on('message', (msg) => {
    chain = chain.then(async () => {
      try {
        const out = await OPS[msg.op](msg);
        if (out && out.transfer) parentPort.postMessage({ id: msg.id, result: out.result }, out.transfer);
        else parentPort.postMessage({ id: msg.id, result: out ?? null });
      } catch (err) {
        if (msg.op !== 'close') await close();
        parentPort.postMessage({ id: msg.id, error: { name: err?.name ?? 'Error', message: String(err?.message ?? err) } });
      }
    });
  });
}
