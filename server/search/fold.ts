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
    out.push({ text, start: m.index!, end: m.index! + text.length, folded: foldToken(text), exact: canonicalTone(text.toLowerCase()) });
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
