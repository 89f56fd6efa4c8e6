/**
 * Vietnamese folding and tokenising, shared by the index and the query side so both agree.
 *
 * Folding maps a syllable to its bare Latin letters: case, tone marks (sắc, huyền, hỏi, ngã, nặng),
 * vowel marks (ă â ê ô ơ ư) and đ/Đ → d are all removed, so `Đảng`, `dang`, `ĐẢNG` fold to `dang`.
 * Input may be NFC or NFD: it is normalised first.
 */

const COMBINING = /[\u0300-\u036f]/g;
const DD = /[đĐ]/g;
/** Token characters: letters, combining marks (NFD input) and digits. */
const TOKEN_RE = /[\p{L}\p{M}\p{N}]+/gu;
// Control characters (C0, DEL, C1) and the Unicode line/paragraph separators: treated as spaces.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/g;

/** Fold a string: NFD, strip combining marks, đ → d, lower case. Keeps non-letters as they are. */
export function fold(s: string): string {
  return s.normalize('NFD').replace(COMBINING, '').replace(DD, 'd').toLowerCase();
}

/** Lower-case NFC form, the "exact spelling" used to prefer diacritic-exact matches. */
export function exactForm(s: string): string {
  return s.normalize('NFC').toLowerCase();
}

/** Replace control characters with spaces and normalise to NFC. */
export function clean(s: string): string {
  return s.replace(CONTROL, ' ').normalize('NFC');
}

const TONE_MARKS = '\u0300\u0301\u0303\u0309\u0323';
/**
 * One spelling for the two tone placements of Vietnamese: in an open syllable ending in `oa`, `oe`
 * or `uy`, the old style puts the tone on the first vowel (hòa, khỏe, thủy, túy) and the new style on
 * the second (hoà, khoẻ, thuỷ, tuý). Both are correct and both are common, so the exact-spelling
 * comparison takes the old style to the new one. Lower-case NFC in, lower-case NFC out; any other
 * token comes back unchanged.
 */
export function canonicalTone(tok: string): string {
  const n = tok.length;
  if (n < 2) return tok;
  const last = tok.charCodeAt(n - 1);
  if (last !== 97 /* a */ && last !== 101 /* e */ && last !== 121 /* y */) return tok;
  const d = tok[n - 2].normalize('NFD');
  if (d.length !== 2 || !TONE_MARKS.includes(d[1])) return tok;
  if (!(d[0] === 'o' ? last !== 121 : d[0] === 'u' && last === 121)) return tok;
  return (tok.slice(0, n - 2) + d[0] + tok[n - 1] + d[1]).normalize('NFC');
}

const TONE_RE = /[\u0300\u0301\u0303\u0309\u0323]/g;
const toneMemo = new Map<string, { base: string; tone: string }>();
/** A lower-case spelling without its tone mark (NFC, vowel marks and đ kept) and the tone mark ('' for none). */
function toneParts(s: string): { base: string; tone: string } {
  let p = toneMemo.get(s);
  if (p === undefined) {
    const d = s.normalize('NFD');
    const m = d.match(TONE_RE);
    p = { base: d.replace(TONE_RE, '').normalize('NFC'), tone: m === null ? '' : m[0] };
    if (toneMemo.size > 100_000) toneMemo.clear();
    toneMemo.set(s, p);
  }
  return p;
}

/**
 * Whether `spelling` (a marked syllable, lower case) can be what the marked prefix `typed` is the start
 * of: its letters, vowel marks and đ included, start with the typed ones, and a tone typed is its tone
 * (`đỏ` → đỏng, not đông or đốc; `tuyê` → tuyên, tuyến; `bà` → bàn, not bằng). Both lower case.
 */
export function completesMarked(typed: string, spelling: string): boolean {
  const t = toneParts(typed);
  const s = toneParts(spelling);
  return s.base.startsWith(t.base) && (t.tone === '' || t.tone === s.tone);
}

export interface Token {
  /** The token as written (NFC). */
  text: string;
  /** Offsets in the NFC string the tokens were taken from. */
  start: number;
  end: number;
  folded: string;
  /** Lower case, tone placement made canonical (`canonicalTone`): the exact-spelling key. */
  exact: string;
}

// Syllables repeat endlessly; folding each one through NFD is the cost worth caching.
const foldMemo = new Map<string, string>();
export function foldToken(t: string): string {
  let f = foldMemo.get(t);
  if (f === undefined) {
    f = fold(t);
    if (foldMemo.size > 200_000) foldMemo.clear();
    foldMemo.set(t, f);
  }
  return f;
}

/** Tokens of `s` (normalised to NFC first) with offsets into the NFC string. */
export function tokenize(s: string): Token[] {
  const src = s.normalize('NFC');
  const out: Token[] = [];
  for (const m of src.matchAll(TOKEN_RE)) {
    const text = m[0];
    const folded = foldToken(text);
    // Combining marks standing alone (`\u0301`, typed or pasted without their letter) fold to nothing: no
    // word (it was a word "" in `ignored`, and a query of nothing else was not `unsearchable`).
    if (folded === '') continue;
    out.push({ text, start: m.index!, end: m.index! + text.length, folded, exact: canonicalTone(text.toLowerCase()) });
  }
  return out;
}

/** Folded text ready for the FTS index: tokens joined by single spaces (punctuation dropped). */
export function foldForIndex(s: string): string {
  const f = fold(s.normalize('NFC'));
  const m = f.match(TOKEN_RE);
  return m === null ? '' : m.join(' ');
}

/**
 * The exact (diacritic-bearing) tokens of `s`, lower case, space separated: only tokens whose folded
 * form differs, because an ASCII token's exact form is its folded form.
 */
export function exactTokensForIndex(s: string): string {
  const m = s.normalize('NFC').toLowerCase().match(TOKEN_RE);
  if (m === null) return '';
  const out: string[] = [];
  for (const t of m) if (fold(t) !== t) out.push(t);
  return out.join(' ');
}

/** True when a token carries any Vietnamese mark (or đ), i.e. its exact form is informative. */
export function hasMarks(token: string): boolean {
  return fold(token) !== token.toLowerCase();
}

// Vietnamese alphabetical order (sort=title): a ă â b c d đ e ê … o ô ơ … u ư …; each of ă â ê ô ơ ư
// and đ is a letter of its own, and the tones only break ties between otherwise equal titles, in the
// dictionary order none, huyền, hỏi, ngã, sắc, nặng (ICU's `vi` collation orders them the same way).
const VI_LETTERS = 'aăâbcdđeêfghijklmnoôơpqrstuưvwxyz';
const VI_RANK = new Map<string, number>([...VI_LETTERS].map((c, i) => [c, i]));
/** Vowel marks that make a letter of their own: breve, circumflex, horn. */
const LETTER_MARK: Record<string, Record<string, string>> = {
  '\u0306': { a: 'ă' },
  '\u0302': { a: 'â', e: 'ê', o: 'ô' },
  '\u031b': { o: 'ơ', u: 'ư' },
};
/** Tone marks in dictionary order (none is 0). */
const TONE_RANK: Record<string, number> = { '\u0300': 1, '\u0309': 2, '\u0303': 3, '\u0301': 4, '\u0323': 5 };
const PRIMARY_BASE = 0x100;
const keyChar = (code: number): string => String.fromCharCode(code);
const MARK_RE = /\p{M}/u;
const ALNUM_RE = /[\p{L}\p{N}]/u;
const NUM_RE = /\p{N}/u;

/**
 * A key whose plain string order (`<`) is the Vietnamese alphabetical order of `title`: letters by the
 * Vietnamese alphabet (ă after a, đ after d, ơ after ô …), then tones, then lower case before upper case.
 * Leading punctuation (an opening quote) is skipped, runs of spaces and punctuation count as one space
 * and sort before every letter and digit, digits before letters, other scripts after Latin.
 */
export function titleSortKey(title: string): string {
  const src = title.normalize('NFD');
  let primary = '';
  let tones = '';
  let cases = '';
  let gap = false;
  const isMark = (c: number, ch: string): boolean => (c >= 0x300 && c <= 0x36f) || (c > 0x36f && MARK_RE.test(ch));
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    const c = ch.charCodeAt(0);
    if (isMark(c, ch)) continue;
    const alnum = c < 0x80 ? (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) : ALNUM_RE.test(ch);
    if (!alnum) {
      gap = primary.length > 0;
      continue;
    }
    if (gap) {
      primary += ' ';
      gap = false;
    }
    let letter = ch.toLowerCase();
    cases += letter === ch ? '0' : '1';
    let tone = 0;
    for (let j = i + 1; j < src.length && isMark(src.charCodeAt(j), src[j]); j++) {
      const m = src[j];
      const mapped = LETTER_MARK[m]?.[letter];
      if (mapped !== undefined) letter = mapped;
      else if (TONE_RANK[m] !== undefined) tone = TONE_RANK[m];
    }
    const rank = VI_RANK.get(letter);
    if (rank !== undefined) primary += keyChar(PRIMARY_BASE + rank);
    else if (c >= 48 && c <= 57) primary += ch;
    else if (NUM_RE.test(ch)) primary += keyChar(0x80);
    else primary += keyChar(Math.min(0xffff, PRIMARY_BASE + 0x100 + letter.charCodeAt(0)));
    tones += String(tone);
  }
  return `${primary}\u0001${tones}\u0001${cases}`;
}
