/**
 * Creating a folder and its missing parents, for every path an operator gives (DATA_DIR, a backup
 * folder, a restore target) and the folders under them.
 *
 * Not `mkdir(p, { recursive: true })`: Node's recursive mkdir loops forever on some paths (under
 * /proc: `mkdirSync('/proc/nope/x', { recursive: true })` never returns, burning a core), and when
 * it does fail it says "no such file or directory" for a read-only disk or a folder this user may
 * not write. Here each missing component is made alone, once, from the deepest folder that exists:
 * at most one `stat` per component going up and one `mkdir` per missing one going down, so it always
 * ends, and a failure names the folder that could not be made and the real reason.
 */
import { mkdirSync, statSync, type Stats } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** A folder that could not be made: `message` says which and why, for the operator; `code` is the system's. */
export class MakeDirError extends Error implements NodeJS.ErrnoException {
  readonly syscall = 'mkdir';
  constructor(
    message: string,
    readonly code: string,
    /** The folder that could not be made (or the file in the way). */
    readonly path: string,
  ) {
    super(message);
    this.name = 'MakeDirError';
  }
}

/** The operator's sentence for a folder `dir` that `mkdir` refused with `code`, `dir`'s parent existing. */
function refused(dir: string, e: NodeJS.ErrnoException): MakeDirError {
  const parent = dirname(dir);
  const code = e.code ?? 'EIO';
  const why =
    code === 'EROFS' ? `${parent} is on a read-only file system`
    : code === 'EACCES' || code === 'EPERM' ? `this user may not write in ${parent}`
    : code === 'ENOSPC' || code === 'EDQUOT' ? `no space left on the disk of ${parent}`
    : code === 'ENOENT' ? `the file system of ${parent} does not take new folders (a virtual one, such as /proc?)`
    : code === 'ENOTDIR' ? `${parent} is not a folder`
    : code === 'ENAMETOOLONG' ? 'the name is too long'
    : (e.message ?? code);
  return new MakeDirError(`cannot create ${dir}: ${why}`, code, dir);
}

/** A file (not a folder) found at `at` on the way to `target`. */
const notAFolder = (target: string, at: string) =>
  new MakeDirError(at === target ? `cannot create ${target}: a file of that name is in the way (it is not a folder)` : `cannot create ${target}: ${at} is a file, not a folder`, 'ENOTDIR', at);

/** At most this many missing components (a path cannot be longer than PATH_MAX = 4096 bytes anyway). */
const MAX_DEPTH = 4096;

/**
 * The walk shared by the async and the sync version: it yields each `stat` or `mkdir` to do and is
 * given back its outcome (Stats or null for a stat, undefined or the error for a mkdir).
 */
function* walk(target: string): Generator<{ op: 'stat' | 'mkdir'; path: string }, void, Stats | null | NodeJS.ErrnoException | undefined> {
  // Up: the missing components, until a folder that exists.
  const missing: string[] = [];
  for (let p = target; ; p = dirname(p)) {
    const st = yield { op: 'stat', path: p };
    if (st && !(st instanceof Error)) {
      if (!(st as Stats).isDirectory()) throw notAFolder(target, p);
      break;
    }
    if (st instanceof Error) {
      const why = st.code === 'EACCES' || st.code === 'EPERM' ? `this user may not look into ${dirname(p)}` : st.message;
      throw new MakeDirError(`cannot create ${target}: ${why}`, st.code ?? 'EIO', p);
    }
    if (dirname(p) === p || missing.length >= MAX_DEPTH) throw new MakeDirError(`cannot create ${target}: ${p} does not exist`, 'ENOENT', p);
    missing.push(p);
  }
  // Down: each missing one, alone.
  for (const dir of missing.reverse()) {
    const e = yield { op: 'mkdir', path: dir };
    if (e === undefined) continue;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EEXIST') {
      // Made meanwhile by someone else (a concurrent upload): fine if it is a folder.
      const st = yield { op: 'stat', path: dir };
      if (st && !(st instanceof Error) && (st as Stats).isDirectory()) continue;
      throw notAFolder(target, dir);
    }
    throw refused(dir, err);
  }
}

/** `stat` that answers null for "not there" (ENOENT, or ENOTDIR: a file on the way, found further up). */
function missingOrError(e: unknown): null | NodeJS.ErrnoException {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' ? null : (e as NodeJS.ErrnoException);
}

/** Make the folder `path` and its missing parents (like `mkdir -p`); a MakeDirError says why not. */
export async function makeDirs(path: string): Promise<void> {
  const it = walk(resolve(path));
  let answer: Stats | null | NodeJS.ErrnoException | undefined;
  for (let step = it.next(); !step.done; step = it.next(answer)) {
    const { op, path: p } = step.value;
    if (op === 'stat') answer = await stat(p).catch(missingOrError);
    else answer = await mkdir(p).then(() => undefined, (e: NodeJS.ErrnoException) => e);
  }
}

/** The synchronous `makeDirs`. */
export function makeDirsSync(path: string): void {
  const it = walk(resolve(path));
  let answer: Stats | null | NodeJS.ErrnoException | undefined;
  for (let step = it.next(); !step.done; step = it.next(answer)) {
    const { op, path: p } = step.value;
    if (op === 'stat') {
      try {
        answer = statSync(p);
      } catch (e) {
        answer = missingOrError(e);
      }
    } else {
      try {
        mkdirSync(p);
        answer = undefined;
      } catch (e) {
        answer = e as NodeJS.ErrnoException;
      }
    }
  }
}
