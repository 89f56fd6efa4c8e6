/**
 * The folded syllable vocabulary (catalogue fields + extracted texts) with document frequencies:
 * typo correction and prefix expansion of query syllables happen here, in memory.
 * Vietnamese has about 7,000 distinct syllables, so scanning the vocabulary by length bucket with a
 * bounded edit distance is cheap (well under a millisecond) and needs no fuzzy index.
 */

export interface Candidate {
  term: string;
  df: number;
  distance: number;
}

/** Optimal-string-alignment distance, giving up (returns max + 1) once it must exceed `max`. */
export function boundedDistance(a: string, b: string, max: number): number {
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > max) return max + 1;
  let prev2 = new Array<number>(lb + 1).fill(0);
  let prev = new Array<number>(lb + 1);
  let cur = new Array<number>(lb + 1);
  for (let j = 0; j <= lb; j++) prev[j] = j;
  for (let i = 1; i <= la; i++) {
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= lb; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) {
        v = Math.min(v, prev2[j - 2] + 1);
      }
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[lb];
}

export class Vocabulary {
  private df = new Map<string, number>();
  private sorted: string[] = [];
  /** Terms added since the last `seal()`; scanned linearly for prefixes. */
  private recent: string[] = [];
  private byLen = new Map<number, string[]>();

  add(term: string, df: number): void {
    if (term.length === 0 || term.length > 40) return;
    const old = this.df.get(term);
    if (old === undefined) {
      this.recent.push(term);
      let b = this.byLen.get(term.length);
      if (b === undefined) this.byLen.set(term.length, (b = []));
      b.push(term);
    }
    this.df.set(term, (old ?? 0) + df);
  }

  /** Sort for prefix lookups (after bulk loading). */
  seal(): void {
    this.sorted = [...this.df.keys()].sort();
    this.recent = [];
  }

  get size(): number {
    return this.df.size;
  }

  /** Terms added since the last seal (scanned linearly by prefix lookups). */
  get recentCount(): number {
    return this.recent.length;
  }

  /** Held by some record or file (a word whose last record went away is counted 0 and not held). */
  has(term: string): boolean {
    return (this.df.get(term) ?? 0) > 0;
  }

  frequency(term: string): number {
    return this.df.get(term) ?? 0;
  }

  /** Close spellings of an unknown syllable, most frequent first. */
  corrections(term: string, limit = 3): Candidate[] {
    if (term.length < 3 || /\d/.test(term)) return [];
    const max = term.length <= 4 ? 1 : 2;
    const out: Candidate[] = [];
    for (let len = term.length - max; len <= term.length + max; len++) {
      const bucket = this.byLen.get(len);
      if (bucket === undefined) continue;
      for (const cand of bucket) {
        const d = boundedDistance(term, cand, max);
        const df = this.df.get(cand) ?? 0;
        if (df > 0 && d <= max) out.push({ term: cand, df, distance: d });
      }
    }
    out.sort((a, b) => a.distance - b.distance || b.df - a.df || (a.term < b.term ? -1 : 1));
    return out.slice(0, limit);
  }

  /** Terms starting with `prefix` (the prefix itself excluded), most frequent first. */
  expansions(prefix: string, limit = 20): Candidate[] {
    if (prefix.length === 0) return [];
    const out: Candidate[] = [];
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid] < prefix) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.sorted.length && this.sorted[i].startsWith(prefix); i++) {
      const t = this.sorted[i];
      const df = this.df.get(t) ?? 0;
      if (t !== prefix && df > 0) out.push({ term: t, df, distance: 0 });
    }
    for (const t of this.recent) {
      const df = this.df.get(t) ?? 0;
      if (t !== prefix && df > 0 && t.startsWith(prefix)) out.push({ term: t, df, distance: 0 });
    }
    out.sort((a, b) => b.df - a.df || (a.term < b.term ? -1 : 1));
    return out.slice(0, limit);
  }
}
