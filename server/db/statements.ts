/**
 * A per-connection cache of prepared statements for hot request paths (an upload prepares its
 * SQL once per process, not once per request: parsing SQL costs more than running these inserts).
 *
 * Only statements obtained through `cached()` are shared, and callers must not switch their modes
 * (`pluck`, `raw`, `expand`): code that needs a mode prepares its own. A statement still busy
 * iterating is never handed out twice: a fresh one is prepared instead. Dynamic SQL (IN lists of
 * varying length, column lists) is bounded by evicting the oldest entry.
 */
import type Database from 'better-sqlite3';

const MAX_PER_CONNECTION = 256;
const caches = new WeakMap<Database.Database, Map<string, Database.Statement>>();

export function cached(sqlite: Database.Database, sql: string): Database.Statement {
  let cache = caches.get(sqlite);
  if (!cache) caches.set(sqlite, (cache = new Map()));
  const hit = cache.get(sql);
  if (hit !== undefined) return hit.busy ? sqlite.prepare(sql) : hit;
  const stmt = sqlite.prepare(sql);
  if (cache.size >= MAX_PER_CONNECTION) cache.delete(cache.keys().next().value!);
  cache.set(sql, stmt);
  return stmt;
}
