/**
 * The only module that calls chardet and iconv-lite. Decodes bytes of unknown encoding to an NFC
 * string: BOM first, then strict UTF-8, then the candidates chardet proposes plus the legacy
 * Vietnamese code pages (Windows-1258, TCVN3/ABC, VISCII), scored by how Vietnamese/plausible the
 * decoded text looks.
 */
import chardet from 'chardet';
import iconv from 'iconv-lite';
import { bomlessUtf16 } from '../sniff.ts';

export interface DecodedText {
  text: string;
  /** Canonical label: utf-8, utf-16le, utf-16be, windows-1258, tcvn, viscii, windows-1252… */
  encoding: string;
  bom: boolean;
  /** 0–1: how sure the choice is (1 for BOM or valid UTF-8). */
  confidence: number;
}

const TONE_MARKS = /[\u0300\u0301\u0303\u0309\u0323]/g;
/** The vowel nuclei of Vietnamese syllables (without tone marks), longest first. */
const NUCLEI = [
  'iêu', 'yêu', 'oai', 'oay', 'oao', 'oeo', 'uây', 'uôi', 'uya', 'uyê', 'uyu', 'ươi', 'ươu', 'uêu',
  'ai', 'ao', 'au', 'ay', 'âu', 'ây', 'eo', 'êu', 'ia', 'iê', 'iu', 'oa', 'oă', 'oe', 'oi', 'ôi', 'ơi', 'oo', 'ôô',
  'ua', 'uâ', 'uê', 'ui', 'uô', 'uơ', 'uy', 'ưa', 'ưi', 'ưu', 'ươ', 'yê',
  'a', 'ă', 'â', 'e', 'ê', 'i', 'o', 'ô', 'ơ', 'u', 'ư', 'y',
];
/**
 * One Vietnamese syllable without its tone mark: onset, a vowel nucleus, coda. The codas ch and nh
 * follow only a, ê, i, y (oa, uê, uy: "hoạch", "huỳnh"), and oo/ôô only come before ng or c ("xoong",
 * "soóc"): a short string whose only words are "Phỏo" or "Khỏnh" (VISCII read as TCVN3) is not taken
 * for Vietnamese.
 */
const SYLLABLE = new RegExp(
  `^(ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|[bcdđghklmnpqrstvx])?` +
    `(?:(${NUCLEI.filter((n) => n !== 'oo' && n !== 'ôô').join('|')})(ng|[cmnpt])?|(oa|uê|uy|a|ê|i|y)(ch|nh)|(oo|ôô)(ng|c))$`,
);
const SUSPICIOUS = /[\u0080-\u009f\ufffd\u0000-\u0008\u000e-\u001f]/gu;

/**
 * Higher is more plausible text. Every word with a non-ASCII letter is checked as a Vietnamese
 * syllable (at most one tone mark, valid onset/vowels/coda, no capital after a small letter, none
 * after the first letter unless all are). Wrong legacy decodings put diacritics in impossible places
 * and symbols between letters ("Cao B¢ng": VISCII read as Windows-1258), so they score low (a glued
 * symbol counts as a bad word); control/replacement debris counts against. Non-Vietnamese text scores about the same for every decoding, so the
 * caller keeps chardet's choice then.
 */
export function plausibility(text: string): number {
  return scored(text).score;
}

/** plausibility, and the number of valid Vietnamese syllables with a non-ASCII letter behind it. */
function scored(text: string): { score: number; good: number } {
  const { good, bad: badWords, debris } = wordCounts(text);
  const bad = badWords + (text.slice(0, 200_000).match(GLUED_SYMBOL)?.length ?? 0);
  return { score: (good - 2 * bad - 5 * debris) / Math.max(1, good + bad), good };
}

/** Verdicts by word (the same syllables come back line after line), forgotten past 100,000. */
const verdicts = new Map<string, number>();

/** 0 for an ASCII word, 1 for a valid Vietnamese syllable with a non-ASCII letter, -1 for any other word. */
function wordVerdict(word: string): number {
  let v = verdicts.get(word);
  if (v !== undefined) return v;
  if (/^[a-zA-Z]+$/.test(word)) v = 0;
  else {
    const d = word.toLowerCase().normalize('NFD');
    const tones = d.match(TONE_MARKS)?.length ?? 0;
    const bare = d.replace(TONE_MARKS, '').normalize('NFC');
    // "BÂng" (VISCII read as TCVN3) is no more a word than "hÖn": capitals after the first letter only in an all-capital word.
    const mixedCase = /\p{Ll}\p{Lu}/u.test(word) || /\p{Lu}\p{Ll}/u.test(word.slice(1));
    v = tones <= 1 && !mixedCase && SYLLABLE.test(bare) ? 1 : -1;
  }
  if (verdicts.size >= 100_000) verdicts.clear();
  if (word.length <= 40) verdicts.set(word, v);
  return v;
}

/** The words of `text` with a non-ASCII letter that are valid Vietnamese syllables (good) or not (bad), and control/replacement debris. */
function wordCounts(text: string): { good: number; bad: number; debris: number } {
  const sample = text.slice(0, 200_000).normalize('NFC');
  let good = 0;
  let bad = 0;
  for (const word of sample.match(/\p{L}+/gu) ?? []) {
    const v = wordVerdict(word);
    if (v === 1) good++;
    else if (v === -1) bad++;
  }
  const debris = sample.match(SUSPICIOUS)?.length ?? 0;
  return { good, bad, debris };
}

/** Characters Windows-1252 can encode: Latin-1 and the 27 characters of its 0x80–0x9F range. */
const CP1252_LINE = /^[\u0000-\u00ff\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178]*$/;
const LATIN1_HIGH = /[\u00a1-\u00ff]/;
const GLUED_SYMBOL = /\p{L}[\u00a1-\u00a9\u00ab-\u00b4\u00b6-\u00b9\u00bb-\u00bf\u00d7\u00f7]+(?=\p{L})/gu;

/** VNI (VNI-Times…) letters stored as one byte: đ, ơ, ư and the i/y letters with their tone. */
const VNI_LETTER = new Map<number, string>([
  [0xf1, 'đ'], [0xd1, 'Đ'], [0xf4, 'ơ'], [0xd4, 'Ơ'], [0xf6, 'ư'], [0xd6, 'Ư'],
  [0xed, 'í'], [0xcd, 'Í'], [0xec, 'ì'], [0xcc, 'Ì'], [0xe6, 'ỉ'], [0xc6, 'Ỉ'], [0xf3, 'ĩ'], [0xd3, 'Ĩ'], [0xf2, 'ị'], [0xd2, 'Ị'],
  [0xee, 'ỵ'], [0xce, 'Ỵ'],
]);
/**
 * VNI marks: the byte after a vowel giving its shape (circumflex, breve) and tone, in lower and upper
 * case (â = "aâ", ấ = "aá", ắ = "aé", á = "aù"…), as [shape, tone] combining characters.
 */
const VNI_MARK = new Map<number, [string, string]>();
for (const [lower, upper, shape, tone] of [
  [0xe2, 0xc2, '\u0302', ''], [0xe1, 0xc1, '\u0302', '\u0301'], [0xe0, 0xc0, '\u0302', '\u0300'], [0xe5, 0xc5, '\u0302', '\u0309'], [0xe3, 0xc3, '\u0302', '\u0303'], [0xe4, 0xc4, '\u0302', '\u0323'],
  [0xea, 0xca, '\u0306', ''], [0xe9, 0xc9, '\u0306', '\u0301'], [0xe8, 0xc8, '\u0306', '\u0300'], [0xfa, 0xda, '\u0306', '\u0309'], [0xfc, 0xdc, '\u0306', '\u0303'], [0xeb, 0xcb, '\u0306', '\u0323'],
  [0xf9, 0xd9, '', '\u0301'], [0xf8, 0xd8, '', '\u0300'], [0xfb, 0xdb, '', '\u0309'], [0xf5, 0xd5, '', '\u0303'], [0xef, 0xcf, '', '\u0323'],
] as Array<[number, number, string, string]>) {
  VNI_MARK.set(lower, [shape, tone]);
  VNI_MARK.set(upper, [shape, tone]);
}
const VNI_VOWEL = /^[aeiouyAEIOUYơƠưƯ]$/;

/** A line of VNI text read as its Windows-1252 characters, read as VNI (NFC). */
export function readVni(line: string): string {
  let out = '';
  // The last letter written, while it can still take a mark: its base and whether it has a shape or tone.
  let base = '';
  let shaped = false;
  let toned = false;
  for (const ch of line) {
    const code = ch.charCodeAt(0);
    const mark = VNI_MARK.get(code);
    if (mark !== undefined && base !== '') {
      const [shape, tone] = mark;
      const shapeFits = shape === '' || (!shaped && (shape === '\u0302' ? /^[aeoAEO]$/.test(base) : /^[aA]$/.test(base)));
      if (shapeFits && !(toned && tone !== '') && !(shape === '' && tone === '')) {
        out += shape + tone;
        shaped ||= shape !== '';
        toned ||= tone !== '';
        continue;
      }
    }
    const letter = VNI_LETTER.get(code);
    const c = letter ?? ch;
    out += c;
    base = VNI_VOWEL.test(c) ? c : '';
    shaped = false;
    toned = false;
  }
  return out.normalize('NFC');
}

/**
 * Text typed in a legacy Vietnamese font comes out of Word, Excel, PowerPoint and PDF files as the
 * Windows-1252 reading of its bytes: TCVN3 (ABC: .VnTime, .VnArial…, the legacy encoding of the
 * north in the 1990s–2000s) as "Céng hoµ x· héi chñ nghÜa ViÖt Nam", VNI (VNI-Times…, common in the
 * south) as "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam". Each line (NFC) that Windows-1252 can encode
 * is read again as TCVN3 and as VNI, and the better reading is kept when the line as it was holds a
 * word that is no Vietnamese syllable (or a symbol glued between letters), and the reading is
 * clearly Vietnamese (most words valid syllables, at least two of them with marks) and clearly
 * better. Unicode Vietnamese (ư, ạ, ộ… are outside Windows-1252), ASCII and ordinary Latin-1 text
 * (French, German) are left as they are.
 */
export function repairLegacyVietnamese(text: string): string {
  return readLegacyVietnamese(text).text;
}

/** repairLegacyVietnamese, saying how many lines were read as TCVN3 and as VNI. */
export function readLegacyVietnamese(text: string): { text: string; tcvn3: number; vni: number } {
  if (!LATIN1_HIGH.test(text)) return { text, tcvn3: 0, vni: 0 };
  const score = (c: { good: number; bad: number; debris: number }) => (c.good - 2 * c.bad - 5 * c.debris) / Math.max(1, c.good + c.bad);
  const readings = [(b: string) => iconv.decode(iconv.encode(b, 'windows-1252'), 'tcvn').normalize('NFC'), readVni];
  const lines = text.split('\n');
  /** Per line: the index of its reading (0 TCVN3, 1 VNI), -1 when kept, -2 when no candidate at all. */
  const chosen: number[] = [];
  /** Per candidate line: its words as it was, and each reading with its words. */
  const candidates = new Map<number, { before: ReturnType<typeof wordCounts>; reads: Array<{ text: string; words: ReturnType<typeof wordCounts> }> }>();
  const counts = [0, 0];
  lines.forEach((line, i) => {
    chosen[i] = -2;
    if (!LATIN1_HIGH.test(line)) return;
    // PDF text extraction names the micro sign's glyph (TCVN3 "à") as the Greek mu.
    const bytes = line.replace(/\u03bc/g, '\u00b5');
    if (!CP1252_LINE.test(bytes)) return;
    // Symbols glued between letters ("ho¹ch", "th¸ng") are TCVN3 letters read as Windows-1252: each
    // counts as a bad word of the line as it was.
    const before = wordCounts(line);
    before.bad += line.match(GLUED_SYMBOL)?.length ?? 0;
    // Something must be wrong with the line as it was (a word that is no syllable).
    if (before.bad === 0) return;
    const reads = readings.map((read) => {
      const t = read(bytes);
      return { text: t, words: wordCounts(t) };
    });
    candidates.set(i, { before, reads });
    chosen[i] = -1;
    let bestScore = score(before) + 0.5;
    reads.forEach((r, k) => {
      if (r.words.good < 2 || r.words.good <= before.good || score(r.words) < 0.5 || score(r.words) <= bestScore) return;
      chosen[i] = k;
      bestScore = score(r.words);
    });
    if (chosen[i] >= 0) counts[chosen[i]]++;
  });
  if (counts[0] + counts[1] === 0) return { text, tcvn3: 0, vni: 0 };
  // The document's encoding, shown by the lines read with confidence: its shorter lines (a heading of
  // one word, "VIEÄT NAM") are read in it on weaker evidence (one word made a valid syllable).
  const doc = counts[1] > counts[0] ? 1 : 0;
  for (const [i, c] of candidates) {
    if (chosen[i] !== -1) continue;
    const r = c.reads[doc].words;
    if (r.good >= 1 && r.good > c.before.good && score(r) >= 0.5 && score(r) > score(c.before)) {
      chosen[i] = doc;
      counts[doc]++;
    }
  }
  return { text: lines.map((line, i) => (chosen[i] >= 0 ? candidates.get(i)!.reads[chosen[i]].text : line)).join('\n'), tcvn3: counts[0], vni: counts[1] };
}

/** The legacy Vietnamese code pages decodeText tries beside chardet's guesses. */
const LEGACY_VI = ['windows-1258', 'tcvn', 'viscii'];
/** Whether decodeText chose one of the legacy Vietnamese code pages (Windows-1258, TCVN3, VISCII). */
export const isLegacyVietnameseEncoding = (encoding: string): boolean => LEGACY_VI.includes(encoding);

export function decodeText(buf: Buffer): DecodedText {
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    return { text: buf.subarray(3).toString('utf8').normalize('NFC'), encoding: 'utf-8', bom: true, confidence: 1 };
  }
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) {
    return { text: iconv.decode(buf.subarray(2), 'utf-16le').normalize('NFC'), encoding: 'utf-16le', bom: true, confidence: 1 };
  }
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) {
    return { text: iconv.decode(buf.subarray(2), 'utf-16be').normalize('NFC'), encoding: 'utf-16be', bom: true, confidence: 1 };
  }
  // UTF-16 without a BOM: ASCII in it is valid UTF-8 with a NUL after every letter, so before UTF-8.
  const utf16 = buf.subarray(0, 8 * 1024).includes(0) ? bomlessUtf16(buf) : null;
  if (utf16) return { text: iconv.decode(buf, utf16).normalize('NFC'), encoding: utf16, bom: false, confidence: 1 };
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return { text: text.normalize('NFC'), encoding: /[^\x00-\x7f]/.test(text) ? 'utf-8' : 'ascii', bom: false, confidence: 1 };
  } catch {
    /* not UTF-8 */
  }
  // UTF-8 with a few broken sequences (a character cut in two where pieces of a file were joined, a
  // bad sector): read as UTF-8, each broken sequence as U+FFFD. Before, one bad byte in 8 KB of
  // Vietnamese made the whole text Windows-1252 mojibake ("BÃ¡o cÃ¡o"), unsearchable.
  const { valid, invalid } = utf8Sequences(buf);
  if (valid >= 8 && invalid * 50 <= valid) {
    return { text: new TextDecoder('utf-8').decode(buf).normalize('NFC'), encoding: 'utf-8', bom: false, confidence: Math.min(0.99, Math.round((1 - invalid / valid) * 100) / 100) };
  }
  const guesses = chardet.analyse(buf.subarray(0, 256 * 1024)).slice(0, 4);
  // chardet's own BOM-less UTF-16 guess (it misses Vietnamese text, read by bomlessUtf16 above), when confident.
  const chardetUtf16 = guesses.find((g) => /^UTF-16/i.test(g.name) && g.confidence >= 60);
  if (chardetUtf16) {
    const enc = chardetUtf16.name.toLowerCase();
    return { text: iconv.decode(buf, enc).normalize('NFC'), encoding: enc, bom: false, confidence: chardetUtf16.confidence / 100 };
  }
  // chardet's guesses first, in its order; a legacy Vietnamese code page must do clearly better to win.
  // UTF-8 (and ASCII) are out: the bytes were just found not to be that, and iconv-lite would read
  // them with U+FFFD for every other byte (chardet guesses UTF-8 for a short "Caf\xe9").
  const candidates = [...new Set([...guesses.map((g) => g.name.toLowerCase()).filter((n) => iconv.encodingExists(n) && !/^(utf-(16|32)|utf-?8$|(us-)?ascii$)/.test(n)), ...LEGACY_VI])];
  let best: DecodedText | null = null;
  let bestScore = -Infinity;
  let bestGood = 0;
  for (const enc of candidates) {
    const text = iconv.decode(buf, enc);
    const { score, good } = scored(text);
    // A legacy Vietnamese page must look clearly Vietnamese (most accented words are valid syllables).
    const eligible = !LEGACY_VI.includes(enc) || score >= 0.5 || best === null;
    // On a par (a short ID3v1 tag, where every reading may be all valid syllables), the one that
    // reads more of its letters as Vietnamese wins: "Bác Hồ" (VISCII) over "Bác H°" (Windows-1258).
    if (eligible && (score > bestScore + 0.05 || (score >= bestScore - 0.05 && good > bestGood))) {
      bestScore = score;
      bestGood = good;
      best = { text: text.normalize('NFC'), encoding: enc, bom: false, confidence: Math.max(0, Math.min(1, score * 5)) };
    }
  }
  return best ?? { text: iconv.decode(buf, 'latin1'), encoding: 'latin1', bom: false, confidence: 0 };
}

/**
 * Counts the well-formed multi-byte UTF-8 sequences of `buf` and the bytes ≥ 0x80 that belong to
 * none (lone continuation bytes, a lead byte without its continuations, overlong or surrogate forms).
 */
export function utf8Sequences(buf: Uint8Array): { valid: number; invalid: number } {
  let valid = 0;
  let invalid = 0;
  for (let i = 0; i < buf.length; ) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    const n = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    let ok = n > 0 && i + n <= buf.length;
    for (let k = 1; ok && k < n; k++) ok = (buf[i + k] & 0xc0) === 0x80;
    if (ok && n === 3) {
      const c1 = buf[i + 1];
      ok = !(b === 0xe0 && c1 < 0xa0) && !(b === 0xed && c1 >= 0xa0); // overlong, surrogate
    } else if (ok && n === 4) {
      const c1 = buf[i + 1];
      ok = !(b === 0xf0 && c1 < 0x90) && !(b === 0xf4 && c1 >= 0x90);
    }
    if (ok) {
      valid++;
      i += n;
    } else {
      invalid++;
      i++;
    }
  }
  return { valid, invalid };
}

/** Bytes in a named single- or double-byte encoding (windows-1258, tcvn, cp932…); latin1 when iconv-lite does not know it. */
export function decodeBytes(buf: Uint8Array, encoding: string): string {
  return iconv.decode(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), iconv.encodingExists(encoding) ? encoding : 'latin1');
}
