/**
 * Snippets: the best-matching window of a text, in its original spelling, HTML-escaped, with the
 * matched words wrapped in <mark>. Matching is by folded syllable so `cao bang` marks "Cao Bằng".
 */
import { canonicalTone, fold, foldToken } from './fold.ts';
import { grownTo } from './typed-arrays.ts';

export interface TermMatcher {
  /** Folded syllables that count as a match. */
  terms: Set<string>;
  /** Folded prefixes: any syllable starting with one of them matches. */
  prefixes: string[];
  /** Lower-case spellings the user typed with marks (tone placement canonical): matching them exactly makes a window better. */
  exact?: Set<string>;
  /**
   * Runs of folded syllables that match only where they stand together, in order (an abbreviation's
   * words, `uy ban nhan dan` for UBND; a word typed without spaces, `ho chi minh`): "Ban" of "Ban Tuyên
   * giáo" is not marked for UBND.
   */
  phrases?: string[][];
  /**
   * Folded syllables the reader typed only with marks (`năm`): where a text holds the spelling typed, its
   * other spellings ("Nặm") are not marked; where it holds none, they are marked but do not count as a
   * distinct match (so the field that writes the word as typed is the one shown).
   */
  strict?: Set<string>;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c]);

/**
 * Folded first letters that can start a match (by char code), or null when any token may match.
 * Most tokens of a passage start with another letter: they are rejected without folding them.
 */
const firstMemo = new WeakMap<TermMatcher, Uint8Array | null>();
function firstLetters(m: TermMatcher): Uint8Array | null {
  let f = firstMemo.get(m);
  if (f !== undefined) return f;
  f = new Uint8Array(0x2000);
  for (const t of [...m.terms, ...m.prefixes, ...(m.phrases ?? []).flat()]) {
    const c = t.charCodeAt(0);
    if (t.length === 0 || c >= 0x2000) {
      f = null;
      break;
    }
    f[c] = 1;
  }
  firstMemo.set(m, f);
  return f;
}
/** Folded form of a lone first character (by char code < 0x2000), -1 when it is not one character of that range. */
const firstFold = new Int32Array(0x2000).fill(-2);
function foldedFirst(c: number): number {
  let r = firstFold[c];
  if (r === -2) {
    const f = fold(String.fromCharCode(c));
    r = f.length === 1 && f.charCodeAt(0) < 0x2000 ? f.charCodeAt(0) : -1;
    firstFold[c] = r;
  }
  return r;
}

const phraseWordsMemo = new WeakMap<string[][], Set<string>>();
function phraseWordsOf(phrases: string[][]): Set<string> {
  let w = phraseWordsMemo.get(phrases);
  if (w === undefined) phraseWordsMemo.set(phrases, (w = new Set(phrases.flat())));
  return w;
}

function matches(m: TermMatcher, folded: string): boolean {
  if (m.terms.has(folded)) return true;
  for (const p of m.prefixes) if (folded.startsWith(p)) return true;
  return false;
}

export interface SnippetResult {
  html: string;
  /** Distinct matched syllables in the window. */
  distinct: number;
  /** Window quality (distinct matches, adjacency, exact spellings), to compare passages. */
  score: number;
  hits: number;
  /** The most distinct query syllables in one run of consecutive matched tokens anywhere in the text
   * (all of them: the words stand together, as in a phrase). */
  together: number;
}

/**
 * Token characters, the same set as `/[\p{L}\p{M}\p{N}]+/u` (letters, marks, digits; code points, so
 * astral letters count and lone surrogates do not), looked up per character code in a table filled on
 * first use: a regex exec per token cost ~200 ns, a table lookup per character a few.
 */
const ONE_TOKEN_CHAR = /^[\p{L}\p{M}\p{N}]$/u;
/** Per BMP code unit: 0 not looked up yet, 1 token character, 2 not. */
const bmpClass = new Uint8Array(0x10000);
const astralClass = new Map<number, boolean>();
function isTokenUnit(c: number): boolean {
  let v = bmpClass[c];
  if (v === 0) {
    v = c >= 0xd800 && c <= 0xdfff ? 2 : ONE_TOKEN_CHAR.test(String.fromCharCode(c)) ? 1 : 2;
    bmpClass[c] = v;
  }
  return v === 1;
}
function isTokenAstral(cp: number): boolean {
  let v = astralClass.get(cp);
  if (v === undefined) {
    v = ONE_TOKEN_CHAR.test(String.fromCodePoint(cp));
    if (astralClass.size < 10_000) astralClass.set(cp, v);
  }
  return v;
}
/** Width (1 or 2 code units) of the token character at `i`, or 0 when none starts there. */
function tokenCharAt(s: string, i: number, c: number): number {
  if (c < 0xd800 || c > 0xdbff) return isTokenUnit(c) ? 1 : 0;
  if (i + 1 >= s.length) return 0;
  const d = s.charCodeAt(i + 1);
  if (d < 0xdc00 || d > 0xdfff) return 0;
  return isTokenAstral(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000) ? 2 : 0;
}

// Per-token scratch (makeSnippet is synchronous and not re-entrant), grown as needed.
let tStart = new Int32Array(1024);
let tEnd = new Int32Array(1024);
/** Per token: -1 when it does not match, else the id of its folded form among the matched ones. */
let tHit = new Int32Array(1024);
/** Per token: 1 when it matches and is spelt exactly as a marked query syllable. */
let tExact = new Uint8Array(1024);
function growTokens(): void {
  const n = tStart.length * 2;
  tStart = grownTo(tStart, n);
  tEnd = grownTo(tEnd, n);
  tHit = grownTo(tHit, n);
  tExact = grownTo(tExact, n);
}

/**
 * Cut a window of about `window` tokens around the densest match. Returns null when nothing matches.
 * Same tokens as `tokenize()` (NFC, letters/marks/digits), kept as offsets and flags in typed scratch
 * arrays rather than one object per token: a page passage scans a few hundred tokens for each of up to
 * 20 pages per query.
 */
export function makeSnippet(text: string, m: TermMatcher, window = 28): SnippetResult | null {
  const src = text.normalize('NFC');
  // Long pages: look at most at the first 200k characters (the page-level index already chose the page).
  const scan = src.length > 200_000 ? src.slice(0, 200_000) : src;
  const len = scan.length;
  const ids = new Map<string, number>();
  const exactSet = m.exact !== undefined && m.exact.size > 0 ? m.exact : null;
  let any = false;
  const first = firstLetters(m);
  const phrases = m.phrases !== undefined && m.phrases.length > 0 ? m.phrases : null;
  const phraseWords = phrases === null ? null : phraseWordsOf(phrases);
  /** Tokens that are a word of some phrase: index and folded form (looked at once the text is cut). */
  const candAt: number[] = [];
  const candWord: string[] = [];
  let n = 0;
  let i = 0;
  while (i < len) {
    const c0 = scan.charCodeAt(i);
    let w = tokenCharAt(scan, i, c0);
    if (w === 0) {
      i++;
      continue;
    }
    const start = i;
    i += w;
    while (i < len && (w = tokenCharAt(scan, i, scan.charCodeAt(i))) !== 0) i += w;
    if (n === tStart.length) growTokens();
    tStart[n] = start;
    tEnd[n] = i;
    tHit[n] = -1;
    tExact[n] = 0;
    const ff = first !== null && c0 < 0x2000 ? foldedFirst(c0) : -1;
    // A token whose first letter folds to one no query syllable starts with cannot match.
    if (ff < 0 || first![ff] !== 0) {
      const t = scan.slice(start, i);
      const folded = foldToken(t);
      if (matches(m, folded)) {
        let id = ids.get(folded);
        if (id === undefined) ids.set(folded, (id = ids.size));
        tHit[n] = id;
        tExact[n] = exactSet !== null && exactSet.has(canonicalTone(t.toLowerCase())) ? 1 : 0;
        any = true;
      }
      if (phraseWords !== null && phraseWords.has(folded)) {
        candAt.push(n);
        candWord.push(folded);
      }
    }
    n++;
  }
  // A phrase's syllables match where they stand together, in order, as consecutive tokens.
  if (phrases !== null) {
    for (let c = 0; c < candAt.length; c++) {
      for (const ph of phrases) {
        if (ph[0] !== candWord[c] || c + ph.length > candAt.length) continue;
        let k = 1;
        while (k < ph.length && candAt[c + k] === candAt[c] + k && candWord[c + k] === ph[k]) k++;
        if (k < ph.length) continue;
        for (let j = 0; j < ph.length; j++) {
          const at = candAt[c + j];
          if (tHit[at] >= 0) continue;
          let id = ids.get(ph[j]);
          if (id === undefined) ids.set(ph[j], (id = ids.size));
          tHit[at] = id;
          tExact[at] = exactSet !== null && exactSet.has(canonicalTone(scan.slice(tStart[at], tEnd[at]).toLowerCase())) ? 1 : 0;
          any = true;
        }
      }
    }
  }
  const starts = tStart;
  const ends = tEnd;
  const hitId = tHit;
  const exactHit = tExact;
  if (!any) return null;
  // Syllables typed only with marks: another spelling is unmarked where the text holds the typed one, and
  // counts for nothing in `distinct` where it does not (0 in `weight`).
  let weight: Uint8Array | null = null;
  if (m.strict !== undefined && m.strict.size > 0 && exactSet !== null) {
    let strictIds: Uint8Array | null = null;
    for (const f of m.strict) {
      const id = ids.get(f);
      if (id === undefined) continue;
      strictIds ??= new Uint8Array(ids.size);
      strictIds[id] = 1;
    }
    if (strictIds !== null) {
      const held = new Uint8Array(ids.size);
      for (let j = 0; j < n; j++) if (hitId[j] >= 0 && exactHit[j] === 1) held[hitId[j]] = 1;
      weight = new Uint8Array(ids.size).fill(1);
      let left = false;
      for (let j = 0; j < n; j++) {
        const id = hitId[j];
        if (id < 0 || strictIds[id] === 0 || exactHit[j] === 1) continue;
        if (held[id] === 1) hitId[j] = -1;
        else weight[id] = 0;
      }
      for (let j = 0; j < n && !left; j++) left = hitId[j] >= 0;
      if (!left) return null;
    }
  }
  const seenAt = new Int32Array(ids.size).fill(-1);
  // Runs of consecutive matched tokens, and the distinct syllables in the richest one.
  let together = 0;
  for (let i = 0, run = 0, inRun = 0; i < n; i++) {
    if (hitId[i] < 0) {
      run = 0;
      continue;
    }
    if (run === 0) inRun = i;
    if (seenAt[hitId[i]] !== inRun) {
      seenAt[hitId[i]] = inRun;
      if (++run > together) together = run;
    }
  }
  seenAt.fill(-1);
  let best = -1;
  let bestStart = 0;
  let bestDistinct = 0;
  let bestHits = 0;
  let bestScore = 0;
  const half = window >> 1;
  for (let i = 0; i < n; i++) {
    if (hitId[i] < 0) continue;
    let distinct = 0;
    let hits = 0;
    let adj = 0;
    let exact = 0;
    // Only the first half of the window counts: the passage should open near its matches.
    const end = Math.min(n, i + half);
    for (let j = i; j < end; j++) {
      const id = hitId[j];
      if (id >= 0) {
        if (seenAt[id] !== i) {
          seenAt[id] = i;
          if (weight === null || weight[id] === 1) distinct++;
        }
        hits++;
        if (j > i && hitId[j - 1] >= 0) adj++;
        exact += exactHit[j];
      }
    }
    const score = distinct * 10 + adj * 8 + exact * 4 + hits;
    if (score > best) {
      best = score;
      bestStart = i;
      bestDistinct = distinct;
      bestHits = hits;
      bestScore = score;
    }
  }
  const lead = Math.min(4, bestStart);
  const from = bestStart - lead;
  const to = Math.min(n, from + window) - 1;
  let html = from > 0 ? '… ' : '';
  let pos = from === 0 ? 0 : starts[from];
  for (let j = from; j <= to; j++) {
    // Tokens are letters, marks and digits only: nothing in them needs escaping.
    const t = src.slice(starts[j], ends[j]);
    const gap = src.slice(pos, starts[j]);
    if (gap === ' ') html += ' ';
    else if (gap.length > 0) html += escapeHtml(gap.replace(/\s+/g, ' '));
    html += hitId[j] >= 0 ? `<mark>${t}</mark>` : t;
    pos = ends[j];
  }
  if (to < n - 1) html += ' …';
  else html += escapeHtml(src.slice(pos, Math.min(src.length, pos + 40)).replace(/\s+/g, ' ').trimEnd());
  return { html, distinct: bestDistinct, hits: bestHits, score: bestScore, together };
}
