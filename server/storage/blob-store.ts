/**
 * The blob store: immutable, content-addressed originals (`blobs/ab/cd/<sha256>`) with their
 * derivatives stored beside them (`blobs/ab/cd/<sha256>.d/<name>`). Each distinct content is stored once.
 *
 * `BlobStore` is the seam for other back-ends (an S3-compatible store implements the same calls;
 * `localPath` would then download to a cache). `createLocalBlobStore` is the local-folder one.
 */
import { close as closeFd, createReadStream, fsync, open as openFd, type ReadStream } from 'node:fs';
import { open, readdir, rename, rm, stat, link, unlink } from 'node:fs/promises';
import { makeDirs } from './make-dirs.ts';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export interface ByteRange {
  /** Inclusive start and end offsets. */
  start: number;
  end: number;
}

export interface PutOptions {
  /**
   * The caller knows no record refers to this content (no `blobs` row): a file already at the
   * destination can only be the orphan of an interrupted upload of the same bytes, so the temp
   * file replaces it (one rename instead of link + unlink). `created` is then true.
   */
  absentFromCatalogue?: boolean;
}

export interface BlobStore {
  /**
   * Move a fully written temp file (already fsynced) into the store under `sha256`.
   * If the content is already stored, the temp file is removed and `created` is false.
   */
  putFile(tempPath: string, sha256: string, opts?: PutOptions): Promise<{ created: boolean }>;
  /** Size in bytes, or null when absent. */
  stat(sha256: string): Promise<{ size: number } | null>;
  /** Read the original, whole or a byte range. */
  read(sha256: string, range?: ByteRange): Readable;
  /** A local path to the original for tools that need a file (sharp, ffmpeg, pdf.js). */
  localPath(sha256: string): Promise<string>;
  /** Store a derivative file (moved from `tempPath`) beside its blob, replacing an older one. */
  putDerivative(sha256: string, name: string, tempPath: string): Promise<void>;
  statDerivative(sha256: string, name: string): Promise<{ size: number } | null>;
  readDerivative(sha256: string, name: string): Readable;
  /** Every stored blob's name (for fixity checks and orphan detection). */
  list(): AsyncIterable<string>;
  /**
   * Entries of the store that are neither a blob nor a blob's derivative folder, nor a shard folder
   * holding them (a file whose name is not a SHA-256, a blob in the wrong shard folder, a stray
   * folder): paths relative to the store's root, for fixity reports.
   */
  strays(): AsyncIterable<{ path: string; size: number | null }>;
  /** Remove a blob and its derivatives (used only for orphans by admins). */
  remove(sha256: string): Promise<void>;
}

export const SHA256_RE = /^[0-9a-f]{64}$/;
const DERIVATIVE_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function assertSha(sha256: string): void {
  if (!SHA256_RE.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
}

/** fsync a directory so a rename into it survives a crash. */
export function fsyncDir(dir: string): Promise<void> {
  // The callback API on a plain descriptor: called on every upload, it needs no FileHandle object
  // and no promise per step.
  return new Promise((resolve, reject) => {
    openFd(dir, 'r', (e, fd) => {
      if (e) return reject(e);
      fsync(fd, (e2) => closeFd(fd, (e3) => (e2 || e3 ? reject(e2 ?? e3) : resolve())));
    });
  });
}

export function createLocalBlobStore(root: string): BlobStore {
  const blobPath = (sha: string) => join(root, sha.slice(0, 2), sha.slice(2, 4), sha);
  const derivDir = (sha: string) => `${blobPath(sha)}.d`;
  const derivPath = (sha: string, name: string) => {
    if (!DERIVATIVE_RE.test(name)) throw new Error(`bad derivative name: ${name}`);
    return join(derivDir(sha), name);
  };

  const statOrNull = async (p: string) => {
    try {
      const s = await stat(p);
      return s.isFile() ? { size: s.size } : null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  };

  /** Shard folders known to exist (at most 65,536): no mkdir round trip per upload. */
  const knownDirs = new Set<string>();

  return {
    async putFile(tempPath, sha256, opts = {}) {
      assertSha(sha256);
      const dest = blobPath(sha256);
      const dir = join(root, sha256.slice(0, 2), sha256.slice(2, 4));
      /** Run `op` with the shard folder made (once; again if it was removed behind our back). */
      const inShard = async (op: () => Promise<void>) => {
        if (!knownDirs.has(dir)) {
          await makeDirs(dir);
          knownDirs.add(dir);
        }
        try {
          await op();
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          knownDirs.delete(dir);
          await makeDirs(dir);
          await op();
        }
      };
      if (opts.absentFromCatalogue) {
        await inShard(() => rename(tempPath, dest));
        await fsyncDir(dir);
        return { created: true };
      }
      // link() fails if the destination exists, so two concurrent uploads of the same bytes
      // never replace each other's file: the first wins, the second learns it is a duplicate.
      try {
        await inShard(() => link(tempPath, dest));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
          await unlink(tempPath).catch(() => {});
          return { created: false };
        }
        throw e;
      }
      await unlink(tempPath);
      await fsyncDir(dir);
      return { created: true };
    },
    async stat(sha256) {
      assertSha(sha256);
      return statOrNull(blobPath(sha256));
    },
    read(sha256, range): ReadStream {
      assertSha(sha256);
      return createReadStream(blobPath(sha256), range ? { start: range.start, end: range.end, highWaterMark: 256 * 1024 } : { highWaterMark: 256 * 1024 });
    },
    async localPath(sha256) {
      assertSha(sha256);
      return blobPath(sha256);
    },
    async putDerivative(sha256, name, tempPath) {
      assertSha(sha256);
      const dest = derivPath(sha256, name);
      await makeDirs(derivDir(sha256));
      const fh = await open(tempPath, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tempPath, dest);
      await fsyncDir(derivDir(sha256));
    },
    async statDerivative(sha256, name) {
      assertSha(sha256);
      return statOrNull(derivPath(sha256, name));
    },
    readDerivative(sha256, name) {
      assertSha(sha256);
      return createReadStream(derivPath(sha256, name));
    },
    async *list() {
      let level1: string[];
      try {
        level1 = await readdir(root);
      } catch {
        return;
      }
      for (const a of level1.sort()) {
        if (!/^[0-9a-f]{2}$/.test(a)) continue;
        for (const b of (await readdir(join(root, a))).sort()) {
          if (!/^[0-9a-f]{2}$/.test(b)) continue;
          for (const name of (await readdir(join(root, a, b))).sort()) {
            if (SHA256_RE.test(name) && name.startsWith(a + b)) yield name;
          }
        }
      }
    },
    async *strays() {
      const entries = async (dir: string) => (await readdir(dir, { withFileTypes: true }).catch(() => [])).sort((x, y) => (x.name < y.name ? -1 : 1));
      const stray = async (rel: string, isDir: boolean) => ({ path: isDir ? `${rel}/` : rel, size: isDir ? null : ((await statOrNull(join(root, rel)))?.size ?? null) });
      const shard = /^[0-9a-f]{2}$/;
      for (const a of await entries(root)) {
        if (!a.isDirectory() || !shard.test(a.name)) {
          yield await stray(a.name, a.isDirectory());
          continue;
        }
        for (const b of await entries(join(root, a.name))) {
          if (!b.isDirectory() || !shard.test(b.name)) {
            yield await stray(`${a.name}/${b.name}`, b.isDirectory());
            continue;
          }
          for (const e of await entries(join(root, a.name, b.name))) {
            const sha = e.name.endsWith('.d') ? e.name.slice(0, -2) : e.name;
            const placed = SHA256_RE.test(sha) && sha.startsWith(a.name + b.name);
            const ok = placed && (e.name.endsWith('.d') ? e.isDirectory() : e.isFile());
            if (!ok) yield await stray(`${a.name}/${b.name}/${e.name}`, e.isDirectory());
          }
        }
      }
    },
    async remove(sha256) {
      assertSha(sha256);
      await rm(derivDir(sha256), { recursive: true, force: true });
      await rm(blobPath(sha256), { force: true });
    },
  };
}
