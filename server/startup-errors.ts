/**
 * What an operator reads when the server cannot start: one sentence saying what is wrong and what
 * to do, instead of a stack trace (a port in use, an address not of this machine, a data folder
 * that cannot be written, a damaged database file). Anything not recognised is shown as before.
 */
import { join } from 'node:path';
import { MakeDirError } from './storage/make-dirs.ts';

interface StartupContext {
  host: string;
  port: number;
  dataDir: string;
}

/** The explanation of a start-up failure, or null when it is not one of the known causes. */
export function explainStartupError(e: unknown, ctx: StartupContext): string | null {
  if (!(e instanceof Error)) return null;
  const err = e as NodeJS.ErrnoException;
  const code = err.code ?? '';
  const dbFile = join(ctx.dataDir, 'kho.sqlite');
  const where = `${ctx.host}:${ctx.port}`;
  if (err.syscall === 'listen' || err.syscall === 'getaddrinfo') {
    if (code === 'EADDRINUSE') return `Cannot listen on ${where}: the port is already in use (another copy of the server, or another program). Stop it, or choose another port with PORT.`;
    if (code === 'EACCES') return `Not allowed to listen on ${where} (ports below 1024 need special rights). Choose another port with PORT.`;
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return `Cannot listen on ${where}: ${ctx.host} is not an address of this machine. Set HOST to one of its addresses (127.0.0.1, or 0.0.0.0 for all of them).`;
    }
  }
  const db = explainDatabaseError(e, dbFile);
  if (db !== null) return db;
  if (code === 'ENOSPC' || code === 'SQLITE_FULL') return `No space left under DATA_DIR (${ctx.dataDir}): free some space and start again.`;
  // A folder that could not be made says which and why (makeDirs).
  if (e instanceof MakeDirError) return `Cannot use DATA_DIR (${ctx.dataDir}): ${err.message}. It must be a folder this user can create and write to.`;
  if (['ENOTDIR', 'EACCES', 'EPERM', 'EROFS', 'EEXIST'].includes(code) && err.path !== undefined) {
    return `Cannot use DATA_DIR (${ctx.dataDir}): ${err.message}. It must be a folder this user can create and write to.`;
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_READONLY_DIRECTORY' || code === 'SQLITE_PERM') {
    return `Cannot open the catalogue database ${dbFile} for writing (${err.message}). DATA_DIR must be a folder this user can write to.`;
  }
  return null;
}

/**
 * A catalogue database file that SQLite cannot read as one (not SQLite at all, or damaged): what it
 * is and what to do, for the server and the operator scripts alike; null for other errors.
 */
export function explainDatabaseError(e: unknown, dbFile: string | null): string | null {
  const code = (e as { code?: unknown } | null)?.code;
  const what = dbFile === null ? 'The catalogue database' : `The catalogue database ${dbFile}`;
  const restore = 'Restore the last backup into a new folder (DATA_DIR=<new folder> npm run restore -- <backup folder>, see docs/operations.md) and start the server on that folder; this file is left as it is.';
  if (code === 'SQLITE_NOTADB') return `${what} is not a SQLite database. ${restore}`;
  if (code === 'SQLITE_CORRUPT') return `${what} is damaged (${(e as Error).message}). ${restore}`;
  return null;
}
