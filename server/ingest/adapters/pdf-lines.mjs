// Putting glyphs drawn out of order back into their line (plain JavaScript: loaded by the pdf.js
// worker thread, pdf-worker.mjs, and by the tests).
//
// A PDF writer whose font lacks some letters draws them from a fallback font, and LibreOffice
// (Writer, and its "convert to PDF") draws a line's fallback glyphs *after* the rest of the line:
// first "Thác B▯n Gi▯c" in Liberation Serif with gaps, then "ả" and "ố" in DejaVu Serif, each
// positioned in its gap. pdf.js reports text items in drawing order and, inside one item, turns a
// gap narrower than about 0.6 em into a plain space with no position of its own; so the page read
// "Thác B n Gi c … ả ố", and none of the line's Vietnamese words could be found.
//
// `reorderLateGlyphs(items, styles)` finds such glyphs: a short text item that starts back inside a
// line already drawn (same baseline, left of where that line has reached). Each goes into the line:
// - into the gap between two items when it sits there (by x);
// - into an item that covers its x: it takes the place of one of that item's spaces. The item's
//   characters have no positions, so they are estimated from typical advance widths (Times,
//   Helvetica or monospace, after the font's family) scaled to the item's width, and the glyph runs
//   (left to right) replace the spaces whose estimated centres are nearest theirs, in order (a small
//   dynamic programme). A run with no space left is inserted at the nearest character boundary.
// The rebuilt line replaces the line's first item; its other items and the late glyphs are dropped
// from the list. A page with no such glyph is returned as it was (same array).
//
// Only horizontal left-to-right text is considered; rotated, vertical and right-to-left items are
// left in drawing order.

/** Advance widths (1/1000 em) of ASCII letters, digits and common punctuation. */
const TIMES = {
  ' ': 250, a: 444, b: 500, c: 444, d: 500, e: 444, f: 333, g: 500, h: 500, i: 278, j: 278, k: 500, l: 278, m: 778, n: 500,
  o: 500, p: 500, q: 500, r: 333, s: 389, t: 278, u: 500, v: 500, w: 722, x: 500, y: 500, z: 444,
  A: 722, B: 667, C: 667, D: 722, E: 611, F: 556, G: 722, H: 722, I: 333, J: 389, K: 722, L: 611, M: 889, N: 722, O: 722,
  P: 556, Q: 722, R: 667, S: 556, T: 611, U: 722, V: 722, W: 944, X: 722, Y: 722, Z: 611,
  '.': 250, ',': 250, ':': 278, ';': 278, '-': 333, '(': 333, ')': 333, '!': 333, '?': 444, '/': 278, "'": 180, '"': 408,
};
const HELVETICA = {
  ' ': 278, a: 556, b: 556, c: 500, d: 556, e: 556, f: 278, g: 556, h: 556, i: 222, j: 222, k: 500, l: 222, m: 833, n: 556,
  o: 556, p: 556, q: 556, r: 333, s: 500, t: 278, u: 556, v: 500, w: 722, x: 500, y: 500, z: 500,
  A: 667, B: 667, C: 722, D: 722, E: 667, F: 611, G: 778, H: 722, I: 278, J: 500, K: 667, L: 556, M: 833, N: 722, O: 778,
  P: 667, Q: 778, R: 722, S: 667, T: 611, U: 722, V: 667, W: 944, X: 667, Y: 667, Z: 611,
  '.': 278, ',': 278, ':': 278, ';': 278, '-': 333, '(': 333, ')': 333, '!': 278, '?': 556, '/': 278, "'": 191, '"': 355,
};

function advance(ch, family) {
  if (family === 'monospace') return 600;
  const table = family === 'sans-serif' ? HELVETICA : TIMES;
  let base = ch.normalize('NFD')[0] ?? ch;
  if (base === 'đ') base = 'd';
  else if (base === 'Đ') base = 'D';
  return table[base] ?? (/\d/.test(base) ? 500 : table === TIMES ? 500 : 556);
}

const isHorizontal = (it) => Math.abs(it.transform[1]) < 1e-6 && Math.abs(it.transform[2]) < 1e-6 && it.transform[0] > 0 && it.dir !== 'rtl' && it.dir !== 'ttb';
const BLANK = /^\s*$/;
const SPACE = /\s/;
const LETTER = /^[\p{L}\p{N}](?<!\p{Lm})/u;
/** How many lines back a late glyph may belong to. */
const LOOKBACK = 40;
/** Longest run of late glyphs taken as fallback glyphs (a fallback run is one to three letters). */
const MAX_LATE = 8;

/**
 * @param {Array<{str: string, transform: number[], width: number, height: number, hasEOL?: boolean, dir?: string, fontName?: string}>} items
 * @param {Record<string, {fontFamily?: string}>} [styles]
 */
export function reorderLateGlyphs(items, styles = {}, { gapsPositioned = false } = {}) {
  const { lines, lineOf, any } = clusterLines(items, MAX_LATE, gapsPositioned);
  if (!any) return items;
  return rebuildLines(items, lines, lineOf, styles);
}

/**
 * Whether some text item of the page starts back inside a line already drawn (of any length: pdf.js
 * joins a font's glyphs across narrow gaps into one item, spaces in place of the gaps). Such a page
 * is worth reading again with every gap kept as a positioned item (pdf-worker.mjs).
 */
export function hasLateGlyphs(items) {
  return clusterLines(items, Number.POSITIVE_INFINITY, false).any;
}

/**
 * With `gapsPositioned` (items read with every gap as its own blank item), a late glyph must also
 * land in a gap of its line: overlapping a glyph already drawn means something else (TeX sets a
 * letter under the accent it has just drawn, "P̂").
 */
function clusterLines(items, maxLate, gapsPositioned) {
  /** @type {Array<{y: number, h: number, x0: number, x1: number, prim: number[], late: number[], last: number, gaps: any[], lateExt: Array<[number, number]>}>} */
  const lines = [];
  const lineOf = new Int32Array(items.length).fill(-1);
  let any = false;
  // Whether the last text item was a late glyph: the blanks after it are the fallback font's own
  // moves between its glyphs (over the line's ink), not gaps of the line.
  let afterLate = false;
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    if (typeof it.str !== 'string' || !isHorizontal(it)) continue;
    if (BLANK.test(it.str)) {
      // A positioned gap of the line being drawn (only with gapsPositioned do gaps have their own items).
      const cur = lines.at(-1);
      if (gapsPositioned && !afterLate && it.str.length > 0 && cur && Math.abs(it.transform[5] - cur.y) <= Math.max(0.5, 0.05 * cur.h)) cur.gaps.push(it);
      continue;
    }
    afterLate = false;
    const x = it.transform[4];
    const y = it.transform[5];
    const h = Math.abs(it.height || it.transform[3] || 10);
    const x1 = x + (it.width || 0);
    const cur = lines.at(-1);
    const sameLine = (l) => Math.abs(y - l.y) <= Math.max(1, 0.3 * Math.max(h, l.h));
    // A fallback glyph sits exactly on its line's baseline, at the line's size, in another font, and
    // is a letter or digit: not a sub- or superscript, an accent placed over a letter, or pieces of
    // a long arrow (TeX draws all of these back over what it has just set).
    const sameBaseline = (l) => Math.abs(y - l.y) <= Math.max(0.5, 0.05 * l.h) && Math.abs(h - l.h) <= 0.15 * l.h;
    // (A run may hold a word space: "cụ ở" drawn in one go, two one-letter pieces of two words.)
    const short = LETTER.test(it.str) && (maxLate === Number.POSITIVE_INFINITY || (it.str.length <= maxLate && it.str.split(/\s+/).every((w) => w.length <= 4)));
    if (cur && sameLine(cur) && x >= cur.x1 - 0.25 * h) {
      cur.prim.push(i);
      cur.x1 = Math.max(cur.x1, x1);
      cur.last = i;
      lineOf[i] = lines.length - 1;
      continue;
    }
    // Back inside a line already drawn: a late glyph of that line.
    // The line it starts inside, or else the nearest line it ends at most 1 em before (a word of
    // late glyphs at the start of a line); the latest such line when several qualify.
    let target = -1;
    let best = Number.POSITIVE_INFINITY;
    if (short) {
      for (let k = lines.length - 1; k >= Math.max(0, lines.length - LOOKBACK); k--) {
        const l = lines[k];
        if (!sameBaseline(l) || x > l.x1 + 0.25 * h || x1 < l.x0 - h || it.fontName === items[l.prim[0]].fontName || overlaysSame(items, l, it)) continue;
        if (gapsPositioned && !fillsGap(items, l, x, x1, h)) continue;
        const d = x >= l.x0 - 0.25 * h ? 0 : l.x0 - x1;
        if (d < best) [best, target] = [d, k];
        if (d === 0) break;
      }
    }
    if (target >= 0) {
      afterLate = true;
      lines[target].lateExt.push([x, x1]);
      lines[target].late.push(i);
      lines[target].last = Math.max(lines[target].last, i);
      lineOf[i] = target;
      any = true;
      continue;
    }
    lines.push({ y, h, x0: x, x1, prim: [i], late: [], last: i, gaps: [], lateExt: [] });
    lineOf[i] = lines.length - 1;
  }
  return { lines, lineOf, any };
}

function rebuildLines(items, lines, lineOf, styles) {
  const drop = new Uint8Array(items.length);
  const replace = new Map();
  for (let k = 0; k < lines.length; k++) {
    const l = lines[k];
    if (l.late.length === 0) continue;
    const first = l.prim[0];
    replace.set(first, rebuildLine(items, l, styles));
    for (const i of l.prim) if (i !== first) drop[i] = 1;
    for (const i of l.late) drop[i] = 1;
    // Blank items on this baseline between the line's first item and its last late glyph were the
    // gaps the late glyphs fill (spacing is worked out again from positions).
    for (let i = first + 1; i <= l.last; i++) {
      const it = items[i];
      if (lineOf[i] === -1 && typeof it.str === 'string' && BLANK.test(it.str) && it.str.length > 0 && isHorizontal(it) && Math.abs(it.transform[5] - l.y) <= Math.max(1, 0.3 * l.h)) drop[i] = 1;
    }
  }
  const out = [];
  for (let i = 0; i < items.length; i++) {
    if (replace.has(i)) out.push(replace.get(i));
    else if (!drop[i]) out.push(items[i]);
  }
  return out;
}

/**
 * Whether a late glyph [x, x1] sits in one of the line's gaps — a positioned blank item, or the room
 * between two of its text items (where a bold or italic run ends and the next begins) — flush with
 * the gap's start or its end (a letter inside a word fills its gap; one ending a word starts its gap,
 * the word space after it; one starting a word ends its gap), in its middle (a one-letter word, a
 * space on each side), or a word space after a late glyph already placed in the same gap ("cụ ở");
 * or whether it ends just before the line's first glyph.
 */
function fillsGap(items, line, x, x1, h) {
  const tol = 0.15 * h;
  if (x1 <= line.x0 + tol && x1 >= line.x0 - h) return true;
  const gaps = line.gaps.map((g) => [g.transform[4], g.transform[4] + (g.width || 0)]);
  const ink = line.prim.map((i) => [items[i].transform[4], items[i].transform[4] + (items[i].width || 0)]).sort((a, b) => a[0] - b[0]);
  for (let k = 1; k < ink.length; k++) if (ink[k][0] - ink[k - 1][1] > tol) gaps.push([ink[k - 1][1], ink[k][0]]);
  for (const [gx, gx1] of gaps) {
    if (x < gx - tol || x1 > gx1 + tol) continue;
    if (Math.abs(x - gx) <= tol || Math.abs(x1 - gx1) <= tol || Math.abs(x - gx - (gx1 - x1)) <= tol) return true;
    if (line.lateExt.some(([ax, ax1]) => ax >= gx - tol && ax1 <= gx1 + tol && x - ax1 >= -tol && x - ax1 <= 0.6 * h)) return true;
  }
  return false;
}

/** The same text drawn again almost on top of an item of the line (fake bold, a shadow): not a late glyph. */
function overlaysSame(items, line, it) {
  const x = it.transform[4];
  for (const i of line.prim) {
    const p = items[i];
    if (Math.abs(p.transform[4] - x) < 0.3 * Math.abs(p.height || 10) && p.str.startsWith(it.str)) return true;
  }
  return false;
}

function rebuildLine(items, line, styles) {
  const prim = line.prim.map((i) => ({ it: items[i], x: items[i].transform[4], w: items[i].width || 0, str: items[i].str, ins: [] }));
  const between = [];
  const late = line.late.map((i) => items[i]).sort((a, b) => a.transform[4] - b.transform[4]);
  for (const g of late) {
    const gx = g.transform[4];
    const h = Math.abs(g.height || line.h);
    const host = prim.find((p) => gx > p.x + 0.1 * h && gx < p.x + p.w - 0.1 * h);
    if (host) host.ins.push(g);
    else between.push({ it: g, x: gx, w: g.width || 0, str: g.str, ins: [], late: true });
  }
  for (const p of prim) if (p.ins.length > 0) p.str = fillSpaces(p, styles[p.it.fontName]?.fontFamily);
  const pieces = [...prim, ...between].sort((a, b) => a.x - b.x);
  let str = '';
  let end = null;
  let lastLate = false;
  for (const p of pieces) {
    // A word space beside a late glyph can look narrower than it is: the fallback font's glyph may
    // be wider than the room the line's own font left for it, or set off by a little kerning.
    const late = p.late === true;
    const minGap = (late || lastLate ? 0.12 : 0.2) * line.h;
    if (end !== null && p.x - end > minGap && str && !SPACE.test(str[str.length - 1]) && p.str && !SPACE.test(p.str[0])) str += ' ';
    str += p.str;
    end = end === null ? p.x + p.w : Math.max(end, p.x + p.w);
    lastLate = late;
  }
  const firstItem = prim[0].it;
  const lastItem = items[line.prim[line.prim.length - 1]];
  return {
    ...firstItem,
    str,
    width: Math.max(0, end - firstItem.transform[4]),
    hasEOL: Boolean(lastItem.hasEOL),
  };
}

/** The item's text with each glyph run inside it put in place of the space nearest its position. */
function fillSpaces(p, family) {
  const chars = [...p.str];
  const adv = chars.map((c) => advance(c, family));
  const total = adv.reduce((a, b) => a + b, 0) || 1;
  const scale = p.w / total;
  const left = new Float64Array(chars.length + 1);
  for (let i = 0; i < chars.length; i++) left[i + 1] = left[i] + adv[i] * scale;
  const spaces = [];
  for (let i = 0; i < chars.length; i++) if (chars[i] === ' ') spaces.push(i);
  const runs = p.ins.map((g) => ({ str: g.str, at: g.transform[4] - p.x, mid: g.transform[4] - p.x + (g.width || 0) / 2 }));
  const k = runs.length;
  const m = spaces.length;
  if (m >= k) {
    // cost[j][s]: best total distance placing runs 0..j with run j on space s (spaces taken in order).
    const INF = Number.POSITIVE_INFINITY;
    const cost = Array.from({ length: k }, () => new Float64Array(m).fill(INF));
    const from = Array.from({ length: k }, () => new Int32Array(m).fill(-1));
    for (let j = 0; j < k; j++) {
      let best = INF;
      let bestAt = -1;
      for (let s = j; s <= m - (k - j); s++) {
        if (j > 0 && cost[j - 1][s - 1] < best) {
          best = cost[j - 1][s - 1];
          bestAt = s - 1;
        }
        const centre = (left[spaces[s]] + left[spaces[s] + 1]) / 2;
        const d = Math.abs(centre - runs[j].mid);
        cost[j][s] = (j === 0 ? 0 : best) + d;
        from[j][s] = bestAt;
      }
    }
    let s = -1;
    let best = INF;
    for (let t = 0; t < m; t++) if (cost[k - 1][t] < best) [best, s] = [cost[k - 1][t], t];
    for (let j = k - 1; j >= 0; j--) {
      chars[spaces[s]] = runs[j].str;
      s = from[j][s];
    }
    return chars.join('');
  }
  // Fewer spaces than runs (glyphs with no gap of their own, e.g. combining marks): insert each run
  // at the character boundary nearest its position.
  const at = runs.map((r) => {
    let b = 0;
    for (let i = 1; i <= chars.length; i++) if (Math.abs(left[i] - r.at) < Math.abs(left[b] - r.at)) b = i;
    return b;
  });
  let out = '';
  for (let i = 0; i <= chars.length; i++) {
    for (let j = 0; j < k; j++) if (at[j] === i) out += runs[j].str;
    if (i < chars.length) out += chars[i];
  }
  return out;
}
