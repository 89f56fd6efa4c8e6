/**
 * Abbreviations of Vietnamese administrative and Party text (UBND, HĐND, MTTQ, TW…) and the words
 * they stand for. A query typing one also finds records that write the words out, and a query typing
 * the words (of an abbreviation of three letters or more) also finds records that write the
 * abbreviation. The list and its rule are in docs/search.md ("Abbreviations").
 *
 * Only abbreviations with one reading in a provincial propaganda archive are listed. Left out on
 * purpose: KH (kế hoạch / khoa học / khách hàng), CT (chỉ thị / chủ tịch / công ty / chương trình),
 * TT (thông tư / trung tâm / thông tin), BTV (Ban Thường vụ / biên tập viên), and any letters that
 * can start a Vietnamese syllable (`kh`, `th`, `ch`…), which a reader may be typing as a prefix.
 */
import { fold } from './fold.ts';

/** Abbreviation as written → the words, as written (marks kept, for display). */
const WRITTEN: Array<[string, string, string?]> = [
  ['UBND', 'Ủy ban nhân dân'],
  ['HĐND', 'Hội đồng nhân dân'],
  ['MTTQ', 'Mặt trận Tổ quốc'],
  ['UBMTTQ', 'Ủy ban Mặt trận Tổ quốc'],
  ['CNXH', 'chủ nghĩa xã hội'],
  ['XHCN', 'xã hội chủ nghĩa'],
  ['CHXHCN', 'Cộng hòa xã hội chủ nghĩa'],
  ['ĐCSVN', 'Đảng Cộng sản Việt Nam'],
  ['ĐCS', 'Đảng Cộng sản'],
  ['BCH', 'Ban Chấp hành'],
  ['THPT', 'trung học phổ thông'],
  ['THCS', 'trung học cơ sở'],
  ['HTX', 'hợp tác xã'],
  ['CLB', 'câu lạc bộ'],
  ['BHXH', 'bảo hiểm xã hội'],
  ['BHYT', 'bảo hiểm y tế'],
  ['ATGT', 'an toàn giao thông'],
  ['LĐTBXH', 'Lao động - Thương binh và Xã hội'],
  ['VHTTDL', 'Văn hóa, Thể thao và Du lịch'],
  ['TPHCM', 'Thành phố Hồ Chí Minh'],
  ['HCM', 'Hồ Chí Minh'],
  // Written with a hyphen between their halves (`KT-XH`, `CNH-HĐH`): the query reads the halves as one,
  // and the words written out also find a record writing the halves (third entry: as written).
  ['KTXH', 'kinh tế - xã hội', 'KT-XH'],
  ['CNH', 'công nghiệp hóa'],
  ['HĐH', 'hiện đại hóa'],
  ['CNHHĐH', 'công nghiệp hóa, hiện đại hóa', 'CNH-HĐH'],
  // Two letters: expanded from the query only (a record's "NQ/TW", "QĐ-UBND" is a document number,
  // so `trung ương` does not also find every record citing one).
  ['TW', 'Trung ương'],
  ['TP', 'thành phố'],
  ['NQ', 'nghị quyết'],
  ['QĐ', 'quyết định'],
];

export interface Abbreviation {
  /** Folded abbreviation (`ubnd`). */
  abbr: string;
  /** As written (`UBND`). */
  written: string;
  /** Folded syllables of the words (`uy`, `ban`, `nhan`, `dan`). */
  words: string[];
  /** The words as written, for display (`Ủy ban nhân dân`). */
  display: string;
  /** Also found when the words are typed (abbreviations of three letters or more). */
  contracts: boolean;
  /** Usually written in two halves joined by a hyphen: the folded halves as an indexed pair (`kt xh`) and as written (`KT-XH`). */
  halves?: { pair: string; written: string };
}

const WORD_RE = /[\p{L}\p{M}\p{N}]+/gu;
const BY_ABBR = new Map<string, Abbreviation>();
/** First folded word → the abbreviations whose words start with it, longest first. */
const BY_FIRST_WORD = new Map<string, Abbreviation[]>();
for (const [written, display, inHalves] of WRITTEN) {
  const abbr = fold(written);
  const words = (fold(display).match(WORD_RE) ?? []) as string[];
  const a: Abbreviation = { abbr, written, words, display, contracts: abbr.length >= 3 };
  if (inHalves !== undefined) a.halves = { pair: ((fold(inHalves).match(WORD_RE) ?? []) as string[]).join(' '), written: inHalves };
  BY_ABBR.set(abbr, a);
  if (a.contracts) {
    const list = BY_FIRST_WORD.get(words[0]) ?? [];
    list.push(a);
    list.sort((x, y) => y.words.length - x.words.length);
    BY_FIRST_WORD.set(words[0], list);
  }
}

/** Two folded syllables side by side in the words of abbreviations (of three letters or more) → those abbreviations. */
const BY_PAIR = new Map<string, Abbreviation[]>();
for (const a of BY_ABBR.values()) {
  if (!a.contracts) continue;
  for (let k = 0; k + 1 < a.words.length; k++) {
    const key = `${a.words[k]} ${a.words[k + 1]}`;
    BY_PAIR.set(key, [...(BY_PAIR.get(key) ?? []), a]);
  }
}

/** Every folded syllable of the words of abbreviations of three letters or more. */
export const ABBREVIATION_WORDS: ReadonlySet<string> = new Set([...BY_ABBR.values()].filter((a) => a.contracts).flatMap((a) => a.words));

/** The abbreviations whose words hold the folded pair `a b` side by side (`nhan dan` → UBND, HĐND). */
export function abbreviationsWithPair(pair: string): readonly Abbreviation[] {
  return BY_PAIR.get(pair) ?? [];
}

/** Every listed abbreviation (for the documentation test). */
export const ABBREVIATIONS: readonly Abbreviation[] = [...BY_ABBR.values()];

/** The abbreviation a folded query word is, if listed. */
export function abbreviationOf(folded: string): Abbreviation | undefined {
  return BY_ABBR.get(folded);
}

/**
 * Abbreviations written out in a run of folded query words: `[start, abbreviation]` for each, nested
 * ones too (`uy ban mat tran to quoc` → UBMTTQ at 0 and MTTQ at 2, so a record writing "Ủy ban MTTQ"
 * is found; `dang cong san viet nam` → ĐCSVN and ĐCS at 0).
 */
export function contractionsIn(words: readonly string[]): Array<[number, Abbreviation]> {
  const out: Array<[number, Abbreviation]> = [];
  for (let i = 0; i < words.length; i++) {
    for (const a of BY_FIRST_WORD.get(words[i]) ?? []) if (a.words.every((w, k) => words[i + k] === w)) out.push([i, a]);
  }
  return out;
}
