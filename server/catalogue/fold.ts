import { fold } from '../search/fold.ts';

/** Vietnamese folding for comparisons (the search module's fold: marks stripped, đ→d, lower case), words only. */
export function foldVi(s: string): string {
  return fold(s)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Character trigrams of a folded string, padded at word edges. */
export function trigrams(folded: string): Set<string> {
  const out = new Set<string>();
  for (const w of folded.split(' ').filter(Boolean)) {
    const s = `  ${w} `;
    for (let i = 0; i + 3 <= s.length; i++) out.add(s.slice(i, i + 3));
  }
  return out;
}

export function jaccard<T>(a: Set<T>, b: Set<T>): number {
  if (a.size === 0 && b.size === 0) return 0;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

/** Similarity of two titles in [0, 1]: trigram Jaccard over folded text. */
export function titleSimilarity(a: string, b: string): number {
  const fa = foldVi(a);
  const fb = foldVi(b);
  if (fa === '' || fb === '') return 0;
  if (fa === fb) return 1;
  return jaccard(trigrams(fa), trigrams(fb));
}
