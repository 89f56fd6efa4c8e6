/**
 * Opening the catalogue database: better-sqlite3 with the pragmas the service relies on,
 * then the drizzle-kit migrations from `migrations/` applied in order.
 */
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as schema from './schema.ts';

export type Db = BetterSQLite3Database<typeof schema>;

export interface Database_ {
  /** The raw better-sqlite3 connection (prepared statements, transactions, backup). */
  sqlite: Database.Database;
  /** drizzle over the same connection. */
  db: Db;
  close(): void;
}

export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../migrations');

export interface OpenDatabaseOptions {
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  readonly?: boolean;
  busyTimeoutMs?: number;
}

/** Open (creating if needed) the SQLite file at `file`, set pragmas, apply migrations. */
export function openDatabase(file: string, opts: OpenDatabaseOptions = {}): Database_ {
  if (file !== ':memory:' && !opts.readonly) mkdirSync(dirname(file), { recursive: true });
  const sqlite = new Database(file, { readonly: opts.readonly ?? false });
  sqlite.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
  if (!opts.readonly) {
    sqlite.pragma('journal_mode = WAL');
    // NORMAL is durable across application crashes in WAL mode; FULL also survives power loss.
    sqlite.pragma('synchronous = FULL');
  }
  sqlite.pragma('foreign_keys = ON');
  const db = drizzle(sqlite, { schema });
  if (opts.migrate ?? true) migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  return { sqlite, db, close: () => sqlite.close() };
}

/** The number of migrations in `migrations/` and how many were applied to this database. */
export function migrationStatus(sqlite: Database.Database): { applied: number; expected: number } {
  const expected = countJournalEntries();
  let applied = 0;
  try {
    applied = (sqlite.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }).n;
  } catch {
    applied = 0;
  }
  return { applied, expected };
}

function countJournalEntries(): number {
  try {
    const journal = JSON.parse(readFileSync(resolve(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
    return journal.entries.length;
  } catch {
    return 0;
  }
}
