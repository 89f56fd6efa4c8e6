/**
 * One server per data dir. A second server started on the same DATA_DIR would sweep the first's
 * uploads in flight out of tmp/ at its start, put the first's running jobs back in the queue and run
 * them a second time, and both would store their search index at their stop. The server holds an
 * exclusive SQLite lock on `DATA_DIR/server.lock` while it runs (a POSIX file lock: the system
 * releases it when the process ends, however it ends, so a crash leaves no stale lock). Operator
 * scripts do not take it: import, backup, verify, rederive are made to run beside a live server.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';

export class DataDirBusy extends Error {
  constructor(readonly dataDir: string) {
    super(
      `Another server is already running on DATA_DIR (${dataDir}): it holds ${join(dataDir, 'server.lock')}. ` +
        'Two servers on one data dir would remove each other\'s uploads in flight and run the same jobs twice. ' +
        'Stop the other one first, or give this one another DATA_DIR.',
    );
    this.name = 'DataDirBusy';
  }
}

/** Take the data dir's server lock (the folder must exist), held until `release()` or the process ends; DataDirBusy if another process holds it. */
export function lockDataDir(dataDir: string): { release(): void } {
  const db = new Database(join(dataDir, 'server.lock'), { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock; in this locking mode it is kept after the commit.
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER, since TEXT)');
    db.exec('BEGIN EXCLUSIVE');
    db.prepare('DELETE FROM holder').run();
    db.prepare('INSERT INTO holder VALUES (?, ?)').run(process.pid, new Date().toISOString());
    db.exec('COMMIT');
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY') || (e as { code?: string }).code?.startsWith('SQLITE_LOCKED')) throw new DataDirBusy(dataDir);
    throw e;
  }
  return { release: () => db.close() };
}
