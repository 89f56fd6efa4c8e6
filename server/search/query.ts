/**
 * Query parsing. Everything the user typed is text: FTS syntax, quotes, `*`, control characters and
 * very long input are reduced to plain tokens, so no input can reach SQL or the FTS parser unquoted.
 */
import { normaliseIsbn } from '../catalogue/isbn.ts';
import { clean, fold, hasMarks, tokenize } from './fold.ts';
import { abbreviationOf } from './abbreviations.ts';

export const MAX_QUERY_CHARS = 256;
export const MAX_QUERY_TOKENS = 12;
const MAX_TOKEN_CHARS = 40;
const LINK = /^[-/]$/;
/** A dash between two words with spaces around it, or an en/em dash or minus sign alone (`KT - XH`, `KT–XH`). */
const SPACED_LINK = /^(?:\s*[-\u2013\u2014\u2212]\s*|\s*\/\s*)$/;
const ALNUM = /^[\p{L}\p{M}\p{N}]$/u;
const FULL_WIDTH = /[\uff01-\uff5e]/g;
const OPERATORS = new Set(['AND', 'OR', 'NOT']);
const ISBN_TYPED = /(?<![\p{L}\p{N}-])\d[\d-]{8,15}[\dXx](?![\p{L}\p{N}-])/gu;

export interface QueryTerm {
  folded: string;
  exact: string;
  /** The user typed marks (or đ): an exact-spelling match deserves a bonus. */
  marked: boolean;
  /** Last token while typing (no trailing space): also matches as a prefix. */
  prefix: boolean;
  /** Part of a quoted phrase. */
  quoted: boolean;
  /** Joined to a neighbour by `-` or `/`, as in a document number (`199-KH/TU`, `QĐ-UBND`): not an abbreviation to expand. */
  joined?: boolean;
  /** Typed in capitals, two letters or more (`UBND`, `TU`): an abbreviation, never a piece of a word. */
  upper?: boolean;
  /** A listed abbreviation typed as two halves joined by `-` or `/` (`KT-XH`): the halves as a pair (`kt xh`). */
  halves?: string;
}

export interface ParsedQuery {
  terms: QueryTerm[];
  /** Quoted phrases, as lists of folded tokens (two or more). */
  phrases: string[][];
  /** Per phrase, the index in `terms` of its first token; -1 when it lost an over-long token (it occurs nowhere). */
  phraseAt: number[];
  /** The display form of the cleaned query. */
  text: string;
  /** Folded tokens dropped for being longer than a syllable can be: they match nothing. */
  tooLong: string[];
  /** Operators typed in capitals that were read as such (`AND`, `OR`, `NOT`), folded; not words to search for. */
  operators: string[];
  /**
   * `a OR b` (capital OR between two words or groups): the alternatives, each a query of its own (adjacent
   * words AND, OR between the groups). Absent when there is no OR: `terms` is then the one group.
   * `terms` (and `phrases`) hold every group's words, in order, for what looks at the query as typed.
   */
  branches?: ParsedQuery[];
  /**
   * What no hit may hold (`-word`, `-"a phrase"`, `NOT word`, `-(a b)`): a word or phrase as folded tokens
   * (one for a word, two or more for a phrase: its adjacent pairs), or a group in parentheses. Those of the
   * query apply to the whole query; a branch's (`(a -b) OR c`) to that branch only.
   */
  excluded: Excluded[];
  /** Something was typed but nothing in it can be searched for (`%00%01`, `-`, `***`): no hits, not the browsing list. */
  unsearchable: boolean;
}

/**
 * An excluded group (`-(a b)`, `NOT (a OR b)`): a record is left out when it matches any branch, i.e. holds
 * every word or phrase of `all` and nothing `none` lists. Words are taken as typed (folded): no correction.
 */
export interface ExcludedGroup {
  any: Array<{ all: string[][]; none: Excluded[] }>;
}
export type Excluded = string[] | ExcludedGroup;

/** Parentheses nested deeper than this are read as plain punctuation. */
const MAX_PAREN_DEPTH = 4;
/** Alternatives a query with parentheses may expand to (`(a OR b) (c OR d)` is 4); beyond, its parentheses are ignored. */
export const MAX_BRANCHES = 8;

/** One word, or a quoted phrase, of the query before operators are read. */
interface Item {
  terms: QueryTerm[];
  /** A quoted phrase (its tokens), or -1 / the phrase lost an over-long token. */
  phrase: boolean;
  lost: boolean;
  /** Typed with a minus in front (`-word`, `-"a phrase"`). */
  minus: boolean;
  /** An operator word typed in capitals (`AND`, `OR`, `NOT`), unquoted. */
  op?: 'AND' | 'OR' | 'NOT';
  /** Unquoted words: the quote segment they were typed in and where the last one ends (joined words, `12/QĐ`). */
  partAt?: number;
  end?: number;
  /** A parenthesis typed outside quotes (its `minus`: `-(`). */
  paren?: '(' | ')';
}

/** A group of the query: the whole query or a pair of parentheses, with its operators read. */
interface Group {
  /** Alternatives (separated by OR), each a list of elements all required. */
  alts: Node[][];
  /** Elements excluded (`-x`, `NOT x`): they apply to the whole group. */
  neg: Node[];
  minus: boolean;
}
type Node = Item | Group;
const isGroup = (x: Node): x is Group => 'alts' in x;
/** One alternative of a query once its parentheses are multiplied out: words all required, exclusions. */
interface Branch {
  items: Item[];
  excl: Excluded[];
}

/** Whether the last item follows a `NOT` read as an operator (it is excluded, not typed as a word to complete). */
function negatedLast(items: Item[]): boolean {
  const before = items[items.length - 2];
  return before !== undefined && before.op === 'NOT';
}

/** Blank as a person sees it: whitespace and invisible format characters (zero-width space, BOM, bidi marks). */
const BLANK = /^[\s\p{Cf}]*$/u;

/**
 * Parse raw user input. `allowPrefix` makes the final unquoted token a prefix when no space follows it.
 * `isKnown` (a folded token → whether the index holds it) lets an ISBN typed with hyphens become the
 * one token a record's ISBN field is indexed as, when some record holds it.
 *
 * Operators: `-word` and `-"a phrase"` (a minus after a space or at the start) and `NOT word` exclude;
 * `OR` in capitals between two words or groups separates alternatives; `AND` in capitals between two
 * words is what adjacent words mean anyway. In lower case, or at either end of the query, they are words.
 */
export function parseQuery(raw: string, allowPrefix = true, isKnown?: (folded: string) => boolean): ParsedQuery {
  const rawText = String(raw ?? '');
  // Full-width letters and digits (Ｃａｏ Ｂằｎｇ, from an East Asian input method) are the ASCII ones, and so
  // are the "fancy" bold or italic letters pasted from social media (𝐂𝐚𝐨 𝐁𝐚̆̀𝐧𝐠, Mathematical Alphanumeric
  // Symbols): compatibility forms (NFKC), which leave Vietnamese letters as they are.
  let s = clean(rawText.normalize('NFKC')).replace(FULL_WIDTH, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/\u3000/g, ' ');
  if (s.length > MAX_QUERY_CHARS) s = s.slice(0, MAX_QUERY_CHARS);
  // Typographic quotes count as quotes, and a minus sign or an en dash typed right before a word (a phone's
  // keyboard may substitute them for the hyphen: `bản đồ −cầm`, `–cầm`) as the minus; between words or
  // numbers (`Cao Bằng – Miền non nước`, `1930–2020`) they stay punctuation.
  s = s.replace(/[“”„‟«»]/g, '"').replace(/(^|[\s(])[\u2212\u2013](?=[\p{L}\p{N}"(])/gu, '$1-');
  // An ISBN typed with hyphens, as printed (978-604-0-00001-5), is stored without them; the hyphenated
  // parts are kept when no record holds it whole (a colophon in a file's text is indexed in parts).
  if (isKnown !== undefined) {
    s = s.replace(ISBN_TYPED, (m) => {
      const isbn = m.includes('-') ? normaliseIsbn(m) : null;
      return isbn !== null && isKnown(isbn.toLowerCase()) ? isbn : m;
    });
  }
  const items: Item[] = [];
  const tooLong: string[] = [];
  let nTokens = 0;
  const parts = s.split('"');
  // Odd segments are inside quotes; an unbalanced trailing quote leaves its text unquoted.
  const balanced = parts.length % 2 === 1;
  /** A minus typed right before position `at` of `part`, itself after a space, the start or punctuation (not `199-KH`). */
  const minusBefore = (part: string, at: number, prevPart: string | undefined): boolean => {
    if (part[at - 1] !== '-') return false;
    const before = at >= 2 ? part[at - 2] : prevPart === undefined ? '' : '"';
    return !ALNUM.test(before);
  };
  parts.forEach((part, i) => {
    const quoted = i % 2 === 1 && (balanced || i < parts.length - 1);
    let lost = false;
    const toks = tokenize(part).filter((t) => {
      if (t.text.length <= MAX_TOKEN_CHARS) return true;
      if (tooLong.length < MAX_QUERY_TOKENS) tooLong.push(t.folded);
      lost = true;
      return false;
    });
    const phrase: Item = { terms: [], phrase: true, lost, minus: quoted && i > 0 && minusBefore(parts[i - 1], parts[i - 1].length, i >= 2 ? parts[i - 2] : undefined) };
    /** Parentheses typed outside quotes between `from` and `to` of this part, as items (`-(` excludes the group). */
    const parens = (from: number, to: number): void => {
      if (quoted) return;
      for (let at = from; at < to; at++) {
        const c = part[at];
        if (c === '(' || c === ')') items.push({ terms: [], phrase: false, lost: false, minus: c === '(' && minusBefore(part, at, i > 0 ? parts[i - 1] : undefined), paren: c });
      }
    };
    let gapFrom = 0;
    let full = false;
    for (const t of toks) {
      if (nTokens >= MAX_QUERY_TOKENS) {
        full = true;
        break;
      }
      nTokens++;
      parens(gapFrom, t.start);
      gapFrom = t.end;
      const joined = (LINK.test(part[t.start - 1] ?? '') && ALNUM.test(part[t.start - 2] ?? '')) || (LINK.test(part[t.end] ?? '') && ALNUM.test(part[t.end + 1] ?? ''));
      const upper = t.text.length >= 2 && t.text === t.text.toUpperCase() && t.text !== t.text.toLowerCase();
      const term: QueryTerm = { folded: t.folded, exact: t.exact, marked: hasMarks(t.text), prefix: false, quoted, ...(joined ? { joined } : {}), ...(upper ? { upper } : {}) };
      if (quoted) phrase.terms.push(term);
      else {
        const op = upper && OPERATORS.has(t.text) ? (t.text as Item['op']) : undefined;
        // A word joined to the previous one by a single `-` or `/` (`12/QĐ-UBND`, `Ê-đê`) is one item with it,
        // searched as a phrase when it holds a letter: a document number's parts scattered over a long text
        // are not it. Numbers alone (`18/01/2023`, `1930-2020`) stay words: a date is also written "ngày 18
        // tháng 01 năm 2023".
        const prevItem = items[items.length - 1];
        const prevTok = prevItem?.terms[prevItem.terms.length - 1];
        const gap = prevTok !== undefined && prevItem.partAt === i ? part.slice(prevItem.end!, t.start) : '';
        // The halves of a listed abbreviation typed with spaces or another dash between them (`KT - XH`,
        // `KT – XH`, `CNH — HĐH`) are joined as `KT-XH` is; other words around a spaced dash stay apart.
        const spacedHalves =
          !joined && prevTok !== undefined && prevItem.terms.length === 1 && SPACED_LINK.test(gap) && /^[a-z]+$/.test(prevTok.folded + t.folded) && abbreviationOf(prevTok.folded + t.folded)?.contracts === true;
        if ((joined || spacedHalves) && prevTok !== undefined && prevItem.op === undefined && prevItem.partAt === i && (LINK.test(gap) || spacedHalves)) {
          prevItem.terms.push(term);
          prevItem.phrase = prevItem.terms.some((x) => /\p{L}/u.test(x.folded));
          prevItem.end = t.end;
          // Two halves of a listed abbreviation (`KT-XH`, `CNH-HĐH`): that abbreviation, one word (its words
          // written out found too), not a document number; the halves stay a form it is written in.
          const [a, b] = prevItem.terms;
          const whole = a.folded + b.folded;
          if (prevItem.terms.length === 2 && /^[a-z]+$/.test(whole) && abbreviationOf(whole)?.contracts === true) {
            prevItem.terms = [{ folded: whole, exact: a.exact + b.exact, marked: a.marked || b.marked, prefix: false, quoted: false, upper: a.upper && b.upper, halves: `${a.folded} ${b.folded}` }];
            prevItem.phrase = false;
          }
          continue;
        }
        items.push({ terms: [term], phrase: false, lost: false, minus: minusBefore(part, t.start, i > 0 ? parts[i - 1] : undefined), ...(op ? { op } : {}), partAt: i, end: t.end });
      }
    }
    if (!full) parens(gapFrom, part.length);
    if (quoted && (phrase.terms.length > 0 || lost)) items.push(phrase);
  });
  // Parentheses: each `(` paired with the next free `)` (a stack), nested at most MAX_PAREN_DEPTH deep; one
  // left unpaired, or deeper, is punctuation like any other (ignored).
  const closeOf = new Map<number, number>();
  {
    const open: number[] = [];
    items.forEach((it, k) => {
      if (it.paren === '(') open.push(k);
      else if (it.paren === ')' && open.length > 0) {
        const o = open.pop()!;
        if (open.length < MAX_PAREN_DEPTH) closeOf.set(o, k);
      }
    });
  }
  // Operators: an `OR` or `AND` with a word, phrase or group on both sides, a `NOT` with one after it.
  // Otherwise (`OR` alone, `NOT` last) they are words. Several ORs in a row are one. Read within each group.
  const operators: string[] = [];
  const readGroup = (lo: number, hi: number, withParens: boolean): Group => {
    const els: Node[] = [];
    for (let k = lo; k < hi; k++) {
      const it = items[k];
      if (it.paren !== undefined) {
        const close = closeOf.get(k);
        if (withParens && close !== undefined && close < hi) {
          const g = readGroup(k + 1, close, true);
          g.minus = it.minus;
          // An empty group, `()`, is nothing.
          if (g.alts.length > 0 || g.neg.length > 0) els.push(g);
          k = close;
        }
        continue;
      }
      els.push(it);
    }
    const group: Group = { alts: [[]], neg: [], minus: false };
    let negateNext = false;
    const isOperand = (k: number): boolean => k >= 0 && k < els.length && (isGroup(els[k]) || (els[k] as Item).op === undefined);
    for (let k = 0; k < els.length; k++) {
      const el = els[k];
      const op = isGroup(el) ? undefined : el.op;
      if (op !== undefined) {
        let after = k + 1;
        while (after < els.length && !isGroup(els[after]) && (els[after] as Item).op === op && op !== 'NOT') after++;
        const readAs = op === 'NOT' ? isOperand(k + 1) : els.slice(0, k).some((_, j) => isOperand(j)) && els.slice(after).some((_, j) => isOperand(after + j));
        if (readAs) {
          operators.push((el as Item).terms[0].folded);
          if (op === 'OR') {
            if (group.alts[group.alts.length - 1].length > 0) group.alts.push([]);
            for (let j = k + 1; j < after; j++) operators.push((els[j] as Item).terms[0].folded);
            k = after - 1;
          } else if (op === 'NOT') negateNext = true;
          continue;
        }
      }
      if (negateNext || el.minus) group.neg.push(el);
      else group.alts[group.alts.length - 1].push(el);
      negateNext = false;
    }
    group.alts = group.alts.filter((a) => a.length > 0);
    return group;
  };
  const wordOf = (it: Item): string[] | null => (it.terms.length > 0 && !it.lost ? it.terms.map((t) => t.folded) : null);
  /** A group multiplied out into its alternatives (`(a OR b) c` → a c, b c); null past MAX_BRANCHES. */
  const branchesOf = (g: Group): Branch[] | null => {
    const out: Branch[] = [];
    for (const alt of g.alts) {
      let acc: Branch[] = [{ items: [], excl: [] }];
      for (const el of alt) {
        const sub = isGroup(el) ? branchesOf(el) : [{ items: [el], excl: [] }];
        if (sub === null) return null;
        const next: Branch[] = [];
        for (const x of acc) for (const y of sub) next.push({ items: [...x.items, ...y.items], excl: [...x.excl, ...y.excl] });
        if (next.length > MAX_BRANCHES) return null;
        acc = next;
      }
      out.push(...acc);
      if (out.length > MAX_BRANCHES) return null;
    }
    if (out.length === 0) out.push({ items: [], excl: [] });
    const neg = exclusionsOf(g.neg);
    if (neg === null) return null;
    for (const b of out) b.excl.push(...neg);
    return out;
  };
  /** Excluded elements as what a record must not hold. */
  const exclusionsOf = (els: Node[]): Excluded[] | null => {
    const out: Excluded[] = [];
    for (const el of els) {
      if (!isGroup(el)) {
        const w = wordOf(el);
        if (w !== null) out.push(w);
        continue;
      }
      const bs = branchesOf({ ...el, minus: false });
      if (bs === null) return null;
      const any = bs.map((b) => ({ all: b.items.map(wordOf).filter((w): w is string[] => w !== null), none: b.excl }));
      // A branch holding nothing to look for (`-(a -b)` aside) would exclude every record: left out.
      const kept = any.filter((b) => b.all.length > 0);
      if (kept.length > 0) out.push({ any: kept });
    }
    return out;
  };
  let root = readGroup(0, items.length, true);
  let top = root.alts.length === 0 ? [] : branchesOf({ ...root, neg: [] });
  let excluded = exclusionsOf(root.neg);
  if (top === null || excluded === null) {
    // Too many alternatives once multiplied out: the parentheses are read as punctuation (as before them).
    operators.length = 0;
    root = readGroup(0, items.length, false);
    top = root.alts.length === 0 ? [] : branchesOf({ ...root, neg: [] })!;
    excluded = exclusionsOf(root.neg)!;
  }
  // An alternative of exclusions only (`(-a) OR b`) excludes from the whole query, as `-a OR b` does.
  for (const b of top) if (b.items.length === 0) excluded.push(...b.excl);
  let branchList = top.filter((b) => b.items.length > 0);
  if (branchList.length === 1) {
    excluded.push(...branchList[0].excl);
    branchList = [{ items: branchList[0].items, excl: [] }];
  }
  const branchesItems = branchList.map((b) => b.items);
  const wordItems = new Set(branchesItems.flat());
  // The word being typed: the query's last item, a word (not excluded, not an operator) with no space after it.
  const lastItem = items[items.length - 1];
  const typing = allowPrefix && lastItem !== undefined && lastItem.partAt !== undefined && !lastItem.minus && !negatedLast(items) && wordItems.has(lastItem) && /[\p{L}\p{M}\p{N}]$/u.test(s);
  const build = (list: Item[]): ParsedQuery => {
    const terms: QueryTerm[] = [];
    const phrases: string[][] = [];
    const phraseAt: number[] = [];
    for (const it of list) {
      const at = terms.length;
      terms.push(...it.terms);
      // A document number still being typed (`199-KH/T`): its last part is a prefix, outside the phrase.
      const words = typing && it === lastItem ? it.terms.slice(0, -1) : it.terms;
      if (it.phrase && (words.length >= 2 || (it.lost && words.length > 0))) {
        phrases.push(words.map((t) => t.folded));
        phraseAt.push(it.lost ? -1 : at);
      }
    }
    return { terms, phrases, phraseAt, text: s.trim(), tooLong: [], operators: [], excluded: [], unsearchable: false };
  };
  // Every word to search for once, in the order typed (`(a OR b) c` holds c in both alternatives).
  const whole = build(items.filter((it) => wordItems.has(it)));
  const last = whole.terms[whole.terms.length - 1];
  if (typing && last !== undefined && lastItem.terms[lastItem.terms.length - 1] === last) last.prefix = true;
  const unsearchable = whole.terms.length === 0 && excluded.length === 0 && tooLong.length === 0 && !BLANK.test(rawText);
  return {
    ...whole,
    tooLong,
    operators,
    ...(branchList.length >= 2 ? { branches: branchList.map((b) => ({ ...build(b.items), excluded: b.excl })) } : {}),
    excluded,
    unsearchable,
  };
}

/** Quote a folded token for an FTS5 expression (tokens never hold quotes, but be strict anyway). */
export function ftsQuote(token: string): string {
  return `"${token.replace(/"/g, '""')}"`;
}

export { fold };
