/**
 * Query parsing. Everything the user typed is text: FTS syntax, quotes, `*`, control characters and
 * very long input are reduced to plain tokens, so no input can reach SQL or the FTS parser unquoted.
 */
import { normaliseIsbn } from '../catalogue/isbn.ts';
import { clean, fold, hasMarks, tokenize } from './fold.ts';

export const MAX_QUERY_CHARS = 256;
export const MAX_QUERY_TOKENS = 12;
const MAX_TOKEN_CHARS = 40;
const LINK = /^[-/]$/;
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
  /** Search-engine operators typed in capitals between two words (`AND`, `OR`, `NOT`), left out: words here are all required. */
  operators: string[];
}

/**
 * Parse raw user input. `allowPrefix` makes the final unquoted token a prefix when no space follows it.
 * `isKnown` (a folded token → whether the index holds it) lets an ISBN typed with hyphens become the
 * one token a record's ISBN field is indexed as, when some record holds it.
 */
export function parseQuery(raw: string, allowPrefix = true, isKnown?: (folded: string) => boolean): ParsedQuery {
  // Full-width letters and digits (Ｃａｏ Ｂằｎｇ, from an East Asian input method) are the ASCII ones.
  let s = clean(String(raw ?? '')).replace(FULL_WIDTH, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/\u3000/g, ' ');
  if (s.length > MAX_QUERY_CHARS) s = s.slice(0, MAX_QUERY_CHARS);
  // Typographic quotes count as quotes.
  s = s.replace(/[“”„‟«»]/g, '"');
  // An ISBN typed with hyphens, as printed (978-604-0-00001-5), is stored without them; the hyphenated
  // parts are kept when no record holds it whole (a colophon in a file's text is indexed in parts).
  if (isKnown !== undefined) {
    s = s.replace(ISBN_TYPED, (m) => {
      const isbn = m.includes('-') ? normaliseIsbn(m) : null;
      return isbn !== null && isKnown(isbn.toLowerCase()) ? isbn : m;
    });
  }
  const terms: QueryTerm[] = [];
  const phrases: string[][] = [];
  const phraseAt: number[] = [];
  const tooLong: string[] = [];
  const parts = s.split('"');
  // Odd segments are inside quotes; an unbalanced trailing quote leaves its text unquoted.
  const balanced = parts.length % 2 === 1;
  parts.forEach((part, i) => {
    const quoted = i % 2 === 1 && (balanced || i < parts.length - 1);
    let lost = false;
    const toks = tokenize(part).filter((t) => {
      if (t.text.length <= MAX_TOKEN_CHARS) return true;
      if (tooLong.length < MAX_QUERY_TOKENS) tooLong.push(t.folded);
      lost = true;
      return false;
    });
    const phrase: string[] = [];
    const at = terms.length;
    for (const t of toks) {
      if (terms.length >= MAX_QUERY_TOKENS) break;
      const joined = (LINK.test(part[t.start - 1] ?? '') && ALNUM.test(part[t.start - 2] ?? '')) || (LINK.test(part[t.end] ?? '') && ALNUM.test(part[t.end + 1] ?? ''));
      const upper = t.text.length >= 2 && t.text === t.text.toUpperCase() && t.text !== t.text.toLowerCase();
      terms.push({ folded: t.folded, exact: t.exact, marked: hasMarks(t.text), prefix: false, quoted, ...(joined ? { joined } : {}), ...(upper ? { upper } : {}) });
      phrase.push(t.folded);
    }
    if (quoted && (phrase.length >= 2 || (lost && phrase.length > 0))) {
      phrases.push(phrase);
      phraseAt.push(lost ? -1 : at);
    }
  });
  // `cao AND bằng`: an operator typed in capitals between two words is no word to search for
  // (`and` would be corrected to anh, `not` read as nốt).
  const operators: string[] = [];
  for (let i = terms.length - 2; i >= 1; i--) {
    const t = terms[i];
    if (!t.quoted && t.upper === true && OPERATORS.has(t.exact.toUpperCase())) {
      operators.unshift(t.folded);
      terms.splice(i, 1);
      for (let p = 0; p < phraseAt.length; p++) if (phraseAt[p] > i) phraseAt[p]--;
    }
  }
  const last = terms[terms.length - 1];
  if (allowPrefix && last !== undefined && !last.quoted && /[\p{L}\p{M}\p{N}]$/u.test(s)) last.prefix = true;
  return { terms, phrases, phraseAt, text: s.trim(), tooLong, operators };
}

/** Quote a folded token for an FTS5 expression (tokens never hold quotes, but be strict anyway). */
export function ftsQuote(token: string): string {
  return `"${token.replace(/"/g, '""')}"`;
}

export { fold };
