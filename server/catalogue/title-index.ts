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

interface TitleIndex {
  /** Each title's trigrams as sorted integer ids (intersections are merges of small arrays). */
  entries: Map<number, Int32Array>;
  postings: Map<number, Set<number>>;
  /** Trigram text → integer id (only grows: a few thousand distinct trigrams in practice). */
  gramIds: Map<string, number>;
  /** Highest updated_at seen; rows at or after it are re-read on the next catch-up. */
  since: string;
}

// A cache of derived state per connection (dropped with it), not a process-wide singleton.
const indexes = new WeakMap<Database.Database, TitleIndex>();

function gramIdsOf(ix: TitleIndex, title: string, add: boolean): { ids: Int32Array; size: number } {
  const tri = trigrams(foldVi(title));
  const ids: number[] = [];
  for (const g of tri) {
    let id = ix.gramIds.get(g);
    if (id === undefined && add) ix.gramIds.set(g, (id = ix.gramIds.size));
    if (id !== undefined) ids.push(id);
  }
  // `size` counts trigrams never seen too: they belong to the query's set for the Jaccard score.
  return { ids: Int32Array.from(ids).sort(), size: tri.size };
}

function put(ix: TitleIndex, id: number, title: string | null) {
  const old = ix.entries.get(id);
  if (old) {
    for (const g of old) ix.postings.get(g)?.delete(id);
    ix.entries.delete(id);
  }
  if (title === null) return;
  const { ids } = gramIdsOf(ix, title, true);
  ix.entries.set(id, ids);
  for (const g of ids) {
    let set = ix.postings.get(g);
    if (!set) ix.postings.set(g, (set = new Set()));
    set.add(id);
  }
}

/** Size of the intersection of two sorted id arrays. */
function overlap(a: Int32Array, b: Int32Array): number {
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i];
    const y = b[j];
    if (x === y) {
      n++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return n;
}

function catchUp(sqlite: Database.Database): TitleIndex {
  let ix = indexes.get(sqlite);
  if (!ix) {
    ix = { entries: new Map(), postings: new Map(), gramIds: new Map(), since: '' };
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
  const { ids: q, size: qSize } = gramIdsOf(ix, title, false);
  if (qSize === 0) return [];
  // Rarest first: any title with Jaccard ≥ t shares at least one of the first |q| - ceil(t·|q|) + 1
  // (trigrams no title has are the rarest of all: they count in the prefix but bring no candidate).
  const ordered = [...q].sort((a, b) => (ix.postings.get(a)?.size ?? 0) - (ix.postings.get(b)?.size ?? 0));
  const prefix = ordered.slice(0, Math.max(0, qSize - Math.ceil(threshold * qSize) + 1 - (qSize - q.length)));
  const candidates = new Set<number>();
  for (const g of prefix) for (const id of ix.postings.get(g) ?? []) candidates.add(id);
  const out: Array<{ id: number; score: number }> = [];
  for (const id of candidates) {
    const e = ix.entries.get(id)!;
    const inter = overlap(q, e);
    const score = inter / (qSize + e.length - inter);
    if (score >= threshold) out.push({ id, score });
  }
  return out;
}
