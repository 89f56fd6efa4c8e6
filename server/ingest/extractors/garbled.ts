/**
 * Text that is no text: what a PDF gives when a font says nothing about its letters (an Identity-H
 * font without ToUnicode whose embedded font has no usable cmap either, see
 * server/ingest/adapters/pdf-fonts.mjs). pdf.js then takes glyph numbers for code points: letters
 * come out shifted into other letters, digits, punctuation and other scripts ("1ৗLGXQJ" for "Nội
 * dung", "7KHTXLFN" for "The quick"), spaces (glyph 3, a control character) vanish.
 *
 * A word (a run without white space) is **not a word** when it holds
 * - a character no text holds: private use, unassigned, a lone surrogate, U+FFFD, a control; or
 * - letters of two scripts that no language writes in one word (Latin with Greek and Latin or Greek
 *   with the Chinese, Japanese and Korean scripts do occur — formulas, Japanese; Latin with Bengali,
 *   Cyrillic, Armenian… do not); or
 * - a Latin letter that no language of the archive uses (IPA, most of Latin Extended-B), beside
 *   other letters; or
 * - 25 or more letters and digits without a space or a separator of addresses (`/ . : - _ @ ? = &`)
 *   in a script written with spaces, most of its cased letters capitals (the shifted form of a
 *   lower-case sentence whose spaces were lost).
 *
 * A page is garbled when such words make at least half of its word characters (letters, marks,
 * digits and the characters of the first rule) and it has at least MIN_CHARS of them. Checked on
 * the corpus PDFs (Vietnamese, English, German with formulas, Arabic, Japanese): their highest share
 * is far below (docs/extractors.md lists the words each file trips).
 */

/** A page needs this many word characters before it is judged. */
export const MIN_CHARS = 8;
/** Share of a page's word characters in non-words from which it is garbled. */
export const GARBLED_SHARE = 0.5;
/** Letters and digits in one piece (see above) from which a mostly upper-case piece is no word. */
const LONG_PIECE = 25;

const SCRIPTS = [
  'Latin', 'Greek', 'Cyrillic', 'Armenian', 'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Nko', 'Devanagari', 'Bengali', 'Gurmukhi',
  'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai', 'Lao', 'Tibetan', 'Myanmar', 'Georgian',
  'Hangul', 'Ethiopic', 'Cherokee', 'Canadian_Aboriginal', 'Ogham', 'Runic', 'Khmer', 'Mongolian', 'Hiragana', 'Katakana',
  'Bopomofo', 'Han', 'Yi', 'Tai_Viet', 'Javanese', 'Balinese', 'Coptic', 'Tifinagh', 'Vai', 'Samaritan', 'Mandaic',
].map((name) => ({ name, re: new RegExp(`^\\p{Script=${name}}$`, 'u') }));
const CJK = new Set(['Han', 'Hiragana', 'Katakana', 'Hangul', 'Bopomofo']);
/** Scripts written without spaces between words: a long run of their letters is normal. */
const UNSPACED = new Set([...CJK, 'Thai', 'Lao', 'Khmer', 'Myanmar', 'Tibetan', 'Javanese', 'Balinese', 'Yi']);

const LETTER_OR_MARK = /^[\p{L}\p{M}]$/u;
const NUMBER = /^\p{N}$/u;
const IMPOSSIBLE = /^[\p{Co}\p{Cn}\p{Cs}\p{Cc}\ufffd]$/u;
const COMMON_OR_INHERITED = /^[\p{Script=Common}\p{Script=Inherited}]$/u;

/**
 * Latin letters the archive's languages (Vietnamese, the minority languages' Latin scripts, English,
 * French, German, other European languages, pinyin) use: ASCII, Latin-1, Latin Extended-A, ơ/ư,
 * pinyin's ǎ ǐ ǒ ǔ ǖ ǘ ǚ ǜ, Romanian ș ț, Latin Extended Additional (Vietnamese ạ…ỹ), ligatures,
 * full-width letters, ordinal indicators, ƒ.
 */
function usualLatin(cp: number): boolean {
  return cp < 0x180 || cp === 0x192 || cp === 0x1a0 || cp === 0x1a1 || cp === 0x1af || cp === 0x1b0 || (cp >= 0x1cd && cp <= 0x1dc)
    || (cp >= 0x218 && cp <= 0x21b) || (cp >= 0x1e00 && cp <= 0x1eff) || (cp >= 0xfb00 && cp <= 0xfb06) || (cp >= 0xff21 && cp <= 0xff5a);
}

/** Character classes, as bits. */
const IMPOSSIBLE_C = 1;
const LETTER_C = 2;
const DIGIT_C = 4;
const UNUSUAL_C = 8; // a Latin letter outside usualLatin
const CASED_C = 16;
const UPPER_C = 32;
const UNSPACED_C = 64;
const SEPARATOR_C = 128;
const SPACE_C = 256;
/** Script group of a letter, as bits (0: Common/Inherited); scripts other than these three: OTHER_G with its name apart. */
const LATIN_G = 1;
const GREEK_G = 2;
const CJK_G = 4;
const OTHER_G = 8;

interface CharInfo { c: number; g: number; script: string | null }
const infos = new Map<number, CharInfo>();
const ascii: CharInfo[] = [];
function info(cp: number): CharInfo {
  if (cp < 0x80 && ascii[cp] !== undefined) return ascii[cp];
  let r = infos.get(cp);
  if (r !== undefined) return r;
  const ch = String.fromCodePoint(cp);
  let c = 0;
  let g = 0;
  let script: string | null = null;
  if (/^\s$/u.test(ch)) c = SPACE_C;
  else if (IMPOSSIBLE.test(ch)) c = IMPOSSIBLE_C;
  else if (LETTER_OR_MARK.test(ch)) {
    c = LETTER_C;
    if (!COMMON_OR_INHERITED.test(ch)) {
      script = SCRIPTS.find((s) => s.re.test(ch))?.name ?? 'Other';
      g = script === 'Latin' ? LATIN_G : script === 'Greek' ? GREEK_G : CJK.has(script) ? CJK_G : OTHER_G;
      if (UNSPACED.has(script)) c |= UNSPACED_C;
      if (script === 'Latin' && !usualLatin(cp)) c |= UNUSUAL_C;
    }
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    if (lower !== upper) c |= CASED_C | (ch === upper ? UPPER_C : 0);
  } else if (NUMBER.test(ch)) c = DIGIT_C;
  else if (PIECE_SEPARATORS.test(ch)) c = SEPARATOR_C;
  r = { c, g, script };
  if (cp < 0x80) ascii[cp] = r;
  else if (infos.size < 65536) infos.set(cp, r);
  return r;
}

const PIECE_SEPARATORS = /^[/.:\-_@?=&]$/;

/** How much of a text is words and how much is not (see the module comment), in word characters. */
export function garbledShare(text: string): { chars: number; bad: number; share: number; samples: string[] } {
  let chars = 0;
  let bad = 0;
  const samples: string[] = [];
  // State of the current word (token) and of the current piece of it.
  let tokenStart = -1;
  let weight = 0;
  let letters = 0;
  let flags = 0; // IMPOSSIBLE_C | UNUSUAL_C seen
  let groups = 0;
  let otherScript: string | null = null;
  let mixedOther = false;
  let longPiece = false;
  let piece = 0;
  let pieceUpper = 0;
  let pieceCased = 0;
  let pieceUnspaced = false;
  const endPiece = () => {
    if (piece >= LONG_PIECE && !pieceUnspaced && pieceCased > 0 && pieceUpper / pieceCased >= 0.7) longPiece = true;
    piece = pieceUpper = pieceCased = 0;
    pieceUnspaced = false;
  };
  const endToken = (end: number) => {
    endPiece();
    if (weight > 0) {
      chars += weight;
      const scriptsClash = mixedOther || ((groups & OTHER_G) !== 0 && (groups & ~OTHER_G) !== 0) || (groups & GREEK_G && groups & CJK_G);
      if ((flags & IMPOSSIBLE_C) || scriptsClash || ((flags & UNUSUAL_C) && letters > 1) || longPiece) {
        bad += weight;
        if (samples.length < 5) {
          const token = text.slice(tokenStart, end);
          samples.push(token.length > 40 ? `${token.slice(0, 40)}…` : token);
        }
      }
    }
    tokenStart = -1;
    weight = letters = flags = groups = 0;
    otherScript = null;
    mixedOther = longPiece = false;
  };
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    const at = i;
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    const { c, g, script } = info(cp);
    if (c & SPACE_C) {
      if (tokenStart >= 0) endToken(at);
      continue;
    }
    if (tokenStart < 0) tokenStart = at;
    if (c & IMPOSSIBLE_C) {
      weight++;
      flags |= IMPOSSIBLE_C;
    } else if (c & LETTER_C) {
      weight++;
      letters++;
      piece++;
      flags |= c & UNUSUAL_C;
      if (g !== 0) {
        groups |= g;
        if (g === OTHER_G) {
          if (otherScript !== null && otherScript !== script) mixedOther = true;
          otherScript = script;
        }
      }
      if (c & UNSPACED_C) pieceUnspaced = true;
      if (c & CASED_C) {
        pieceCased++;
        if (c & UPPER_C) pieceUpper++;
      }
    } else if (c & DIGIT_C) {
      weight++;
      piece++;
    } else if (c & SEPARATOR_C) endPiece();
  }
  if (tokenStart >= 0) endToken(text.length);
  return { chars, bad, share: chars ? bad / chars : 0, samples };
}

/** Whether a page's text is mostly not words (and long enough to tell). */
export function isGarbled(text: string): boolean {
  const { chars, share } = garbledShare(text);
  return chars >= MIN_CHARS && share >= GARBLED_SHARE;
}
