/**
 * Snippets: the best-matching window of a text, in its original spelling, HTML-escaped, with the
 * matched words wrapped in <mark>. Matching is by folded syllable so `cao bang` marks "Cao Bằng".
 */
import { tokenize } from './fold.ts';

export interface TermMatcher {
  /** Folded syllables that count as a match. */
  terms: Set<string>;
  /** Folded prefixes: any syllable starting with one of them matches. */
  prefixes: string[];
  /** Lower-case spellings the user typed with marks: matching them exactly makes a window better. */
  exact?: Set<string>;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c]);

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
}

/** Cut a window of about `window` tokens around the densest match. Returns null when nothing matches. */
export function makeSnippet(text: string, m: TermMatcher, window = 28): SnippetResult | null {
  const src = text.normalize('NFC');
  // Long pages: look at most at the first 200k characters (the page-level index already chose the page).
  const toks = tokenize(src.length > 200_000 ? src.slice(0, 200_000) : src);
  const hit = toks.map((t) => matches(m, t.folded));
  if (!hit.some(Boolean)) return null;
  let best = -1;
  let bestStart = 0;
  let bestDistinct = 0;
  let bestHits = 0;
  let bestScore = 0;
  for (let i = 0; i < toks.length; i++) {
    if (!hit[i]) continue;
    const seen = new Set<string>();
    let hits = 0;
    let adj = 0;
    let exact = 0;
    // Only the first half of the window counts: the passage should open near its matches.
    for (let j = i; j < Math.min(toks.length, i + (window >> 1)); j++) {
      if (hit[j]) {
        seen.add(toks[j].folded);
        hits++;
        if (j > i && hit[j - 1]) adj++;
        if (m.exact?.has(toks[j].exact)) exact++;
      }
    }
    const score = seen.size * 10 + adj * 8 + exact * 4 + hits;
    if (score > best) {
      best = score;
      bestStart = i;
      bestDistinct = seen.size;
      bestHits = hits;
      bestScore = score;
    }
  }
  const lead = Math.min(4, bestStart);
  const from = bestStart - lead;
  const to = Math.min(toks.length, from + window) - 1;
  let html = from > 0 ? '… ' : '';
  let pos = from === 0 ? 0 : toks[from].start;
  for (let j = from; j <= to; j++) {
    const t = toks[j];
    html += escapeHtml(src.slice(pos, t.start).replace(/\s+/g, ' '));
    html += hit[j] ? `<mark>${escapeHtml(t.text)}</mark>` : escapeHtml(t.text);
    pos = t.end;
  }
  if (to < toks.length - 1) html += ' …';
  else html += escapeHtml(src.slice(pos, Math.min(src.length, pos + 40)).replace(/\s+/g, ' ').trimEnd());
  return { html, distinct: bestDistinct, hits: bestHits, score: bestScore };
}
