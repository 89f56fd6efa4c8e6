/**
 * Opening the catalogue database: better-sqlite3 with the pragmas the service relies on,
 * then the drizzle-kit migrations from `migrations/` applied in order.
 */
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { closeSync, fsync, open as fsOpen, readFileSync } from 'node:fs';
import { makeDirsSync } from '../storage/make-dirs.ts';
import { dirname, resolve } from 'node:path';
import { MIGRATIONS_DIR } from '../paths.ts';
import * as schema from './schema.ts';

export type Db = BetterSQLite3Database<typeof schema>;

export interface Database_ {
  /** The raw better-sqlite3 connection (prepared statements, transactions, backup). */
  sqlite: Database.Database;
  /** drizzle over the same connection. */
  db: Db;
  /** Make every transaction committed so far durable (fsync of the WAL, coalesced across callers). */
  syncWal(): Promise<void>;
  close(): void;
}

export { MIGRATIONS_DIR };

export interface OpenDatabaseOptions {
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  readonly?: boolean;
  busyTimeoutMs?: number;
}

/** Open (creating if needed) the SQLite file at `file`, set pragmas, apply migrations. */
export function openDatabase(file: string, opts: OpenDatabaseOptions = {}): Database_ {
  if (file !== ':memory:' && !opts.readonly) makeDirsSync(dirname(file));
  const sqlite = new Database(file, { readonly: opts.readonly ?? false });
  sqlite.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
  if (!opts.readonly) {
    sqlite.pragma('journal_mode = WAL');
    // NORMAL: a commit writes the WAL without fsync (durable across a crash of this process).
    // Requests that must survive power loss await `syncWal()`, one fsync off the main thread
    // that covers every commit before it (group commit), instead of one blocking fsync each.
    sqlite.pragma('synchronous = NORMAL');
  }
  sqlite.pragma('foreign_keys = ON');
  if (!opts.readonly) {
    // better-sqlite3's default BEGIN is deferred: a transaction that reads before it writes then
    // fails at once with SQLITE_BUSY (the busy timeout does not apply) when another connection
    // committed in between — an import or rederive beside the running server, in either process.
    // Every transaction of this connection begins IMMEDIATE instead (the write lock taken at BEGIN,
    // waiting up to busy_timeout); `.deferred` stays available.
    const transaction = sqlite.transaction.bind(sqlite);
    sqlite.transaction = ((fn: (...args: never[]) => unknown) => transaction(fn).immediate) as typeof sqlite.transaction;
  }
  const db = drizzle(sqlite, { schema });
  if (opts.migrate ?? true) migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  const wal = file === ':memory:' || opts.readonly ? null : createWalSync(`${file}-wal`);
  return {
    sqlite,
    db,
    syncWal: wal ?? (async () => {}),
    close: () => {
      sqlite.close();
      wal?.close();
    },
  };
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

/**
 * Group commit for WAL mode with synchronous=NORMAL: `flush()` fsyncs the WAL file on the thread
 * pool. A flush started after a commit covers it; callers arriving while one runs share the next.
 * (Frames already moved to the database file by a checkpoint were fsynced by that checkpoint.)
 */
export function createWalSync(walPath: string): (() => Promise<void>) & { close(): void } {
  let running: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  // The WAL file is kept open: SQLite reuses (truncates, rewrites) the same file while this
  // connection is open, and fsync through any descriptor flushes the file. One thread-pool call
  // per flush instead of three (open, fsync, close).
  let fd: number | null = null;
  const once = async () => {
    if (fd === null) {
      try {
        fd = await new Promise<number>((res, rej) => fsOpen(walPath, 'r', (e, n) => (e ? rej(e) : res(n))));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // no WAL: everything is in the main file
        throw e;
      }
    }
    const current = fd;
    await new Promise<void>((res, rej) => fsync(current, (e) => (e ? rej(e) : res())));
  };
  const start = (): Promise<void> => {
    running = once().finally(() => {
      running = null;
    });
    return running;
  };
  const flush = () => {
    if (!running) return start();
    // A flush is under way but may have started before our commit: share the one after it.
    next ??= running.catch(() => {}).then(() => {
      next = null;
      return start();
    });
    return next;
  };
  return Object.assign(flush, {
    /** Close the kept descriptor (once any flush under way has finished with it). */
    close() {
      const f = fd;
      fd = null;
      if (f === null) return;
      if (running || next) void Promise.allSettled([running, next]).then(() => closeSync(f));
      else closeSync(f);
    },
  });
}
