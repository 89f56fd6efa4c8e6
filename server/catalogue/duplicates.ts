/**
 * Likely-duplicate flags for the archivist: beside the same-file flags the ingest service sets
 * (same SHA-256), a record is flagged when its title closely matches another record's
 * (folded trigram similarity ≥ SIMILAR_TITLE_THRESHOLD) and when another record already answers
 * the same plan task. Withdrawn records are ignored. Flags are advisory: nothing is rejected.
 */
import type Database from 'better-sqlite3';
import { cached } from '../db/statements.ts';
import { similarTitles } from './title-index.ts';

export interface DuplicateFlag {
  kind: 'same_file' | 'similar_title' | 'same_plan_task';
  productId: number;
  sha256?: string;
  detail?: string;
  score?: number;
}

export const SIMILAR_TITLE_THRESHOLD = 0.6;
const MAX_FLAGS_PER_KIND = 10;

/** Title and plan-task flags for a record with these fields (excluding `selfId`). */
export function findLikelyDuplicates(
  sqlite: Database.Database,
  rec: { title: string; planTaskId?: number | null },
  selfId: number | null = null,
  /** Products already flagged for a stronger reason (same file): not flagged again. */
  skip: ReadonlySet<number> = new Set(),
): DuplicateFlag[] {
  const flags: DuplicateFlag[] = [];
  const found = similarTitles(sqlite, rec.title, SIMILAR_TITLE_THRESHOLD)
    .filter((x) => x.id !== selfId && !skip.has(x.id))
    .sort((a, b) => b.score - a.score || a.id - b.id);
  // The index may lag a delete or a withdrawal made by another process: confirm against the table,
  // best first, until enough are confirmed (a catalogue of near-identical titles stays cheap).
  const check = cached(sqlite, `SELECT id, title FROM products WHERE id = ? AND state <> 'withdrawn'`);
  for (const x of found) {
    if (flags.length >= MAX_FLAGS_PER_KIND) break;
    const r = check.get(x.id) as { id: number; title: string } | undefined;
    if (r) flags.push({ kind: 'similar_title', productId: r.id, score: Math.round(x.score * 100) / 100, detail: r.title });
  }
  if (rec.planTaskId != null) {
    const same = cached(sqlite, `SELECT id, title FROM products WHERE plan_task_id = ? AND state <> 'withdrawn' AND id <> ? ORDER BY id LIMIT ?`)
      .all(rec.planTaskId, selfId ?? -1, MAX_FLAGS_PER_KIND) as Array<{ id: number; title: string }>;
    for (const r of same) if (!skip.has(r.id)) flags.push({ kind: 'same_plan_task', productId: r.id, detail: r.title });
  }
  return flags;
}

/** Recompute the title/task flags of an existing record, keeping its same-file flags. */
export function refreshFlags(sqlite: Database.Database, productId: number, current: DuplicateFlag[], rec: { title: string; planTaskId: number | null }): DuplicateFlag[] {
  const sameFile = current.filter((f) => f.kind === 'same_file');
  return [...sameFile, ...findLikelyDuplicates(sqlite, rec, productId, new Set(sameFile.map((f) => f.productId)))];
}
