/**
 * Finding records whose title is similar to a given one without comparing against every title:
 * an in-memory inverted index of folded-title trigrams, kept per database connection and caught
 * up incrementally before each query (rows whose `updated_at` moved since the last catch-up, via
 * `products_updated_idx`). Candidates come from the query's rarest trigrams only (prefix
 * filtering: a title with Jaccard ≥ t must share at least one of them), then the exact Jaccard is
 * computed for those. Deleted or withdrawn records are dropped by the caller's final check.
 */
import type Database from 'better-sqlite3';
import { cached } from '../db/statements.ts';
import { foldVi, trigrams } from './fold.ts';

interface Entry {
  tri: Set<string>;
}

interface TitleIndex {
  entries: Map<number, Entry>;
  postings: Map<string, Set<number>>;
  /** Highest updated_at seen; rows at or after it are re-read on the next catch-up. */
  since: string;
}

// A cache of derived state per connection (dropped with it), not a process-wide singleton.
const indexes = new WeakMap<Database.Database, TitleIndex>();

function put(ix: TitleIndex, id: number, title: string | null) {
  const old = ix.entries.get(id);
  if (old) {
    for (const g of old.tri) ix.postings.get(g)?.delete(id);
    ix.entries.delete(id);
  }
  if (title === null) return;
  const tri = trigrams(foldVi(title));
  ix.entries.set(id, { tri });
  for (const g of tri) {
    let set = ix.postings.get(g);
    if (!set) ix.postings.set(g, (set = new Set()));
    set.add(id);
  }
}

function catchUp(sqlite: Database.Database): TitleIndex {
  let ix = indexes.get(sqlite);
  if (!ix) {
    ix = { entries: new Map(), postings: new Map(), since: '' };
    indexes.set(sqlite, ix);
  }
  const rows = cached(sqlite, 'SELECT id, title, state, updated_at FROM products WHERE updated_at >= ? ORDER BY updated_at')
    .all(ix.since) as Array<{ id: number; title: string; state: string; updated_at: string }>;
  for (const r of rows) {
    put(ix, r.id, r.state === 'withdrawn' ? null : r.title);
    if (r.updated_at > ix.since) ix.since = r.updated_at;
  }
  return ix;
}

/** Ids and Jaccard scores of records whose folded-title trigram similarity to `title` is ≥ `threshold`. */
export function similarTitles(sqlite: Database.Database, title: string, threshold: number): Array<{ id: number; score: number }> {
  const ix = catchUp(sqlite);
  const q = trigrams(foldVi(title));
  if (q.size === 0) return [];
  // Rarest first: any title with Jaccard ≥ t shares at least one of the first |q| - ceil(t·|q|) + 1.
  const ordered = [...q].sort((a, b) => (ix.postings.get(a)?.size ?? 0) - (ix.postings.get(b)?.size ?? 0));
  const prefix = ordered.slice(0, q.size - Math.ceil(threshold * q.size) + 1);
  const candidates = new Set<number>();
  for (const g of prefix) for (const id of ix.postings.get(g) ?? []) candidates.add(id);
  const out: Array<{ id: number; score: number }> = [];
  for (const id of candidates) {
    const e = ix.entries.get(id)!;
    let inter = 0;
    for (const g of q) if (e.tri.has(g)) inter++;
    const score = inter / (q.size + e.tri.size - inter);
    if (score >= threshold) out.push({ id, score });
  }
  return out;
}
