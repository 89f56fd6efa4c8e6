/** Hashing and verified copying of store files. */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, stat, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { makeDirs } from '../storage/make-dirs.ts';

/** SHA-256 (hex) and size of a file, streamed. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

export class ChecksumMismatch extends Error {
  constructor(
    public readonly path: string,
    public readonly expected: string,
    public readonly actual: string,
  ) {
    super(`checksum mismatch for ${path}: expected ${expected}, got ${actual}`);
    this.name = 'ChecksumMismatch';
  }
}

/** Copies in progress, and whether copying was stopped (a script interrupted half-way: server/ops/cli.ts onInterrupt). */
const copiesInFlight = new Set<Promise<unknown>>();
let copyingStopped = false;

export class CopyingStopped extends Error {
  constructor() {
    super('copying was stopped');
    this.name = 'CopyingStopped';
  }
}

/**
 * Stop copying: no new copy starts, a copy in progress is not renamed into place (its temp file is
 * removed); resolves once every copy in progress has settled, so nothing is written after it.
 */
export async function stopCopying(): Promise<void> {
  copyingStopped = true;
  await Promise.allSettled([...copiesInFlight]);
}

/**
 * Copy `src` to `dest` through a temp file in the same folder, hashing on the way; fsync; rename.
 * When `expectedSha256` is given and the bytes differ, nothing is written and ChecksumMismatch is thrown.
 * The source's mtime is kept (incremental copies of derivatives compare it).
 */
export function copyVerified(src: string, dest: string, expectedSha256?: string): Promise<{ sha256: string; size: number }> {
  if (copyingStopped) return Promise.reject(new CopyingStopped());
  const copy = copyOnce(src, dest, expectedSha256);
  copiesInFlight.add(copy);
  const done = () => copiesInFlight.delete(copy);
  copy.then(done, done);
  return copy;
}

async function copyOnce(src: string, dest: string, expectedSha256?: string): Promise<{ sha256: string; size: number }> {
  await makeDirs(dirname(dest));
  const tmp = `${dest}.tmp-${randomBytes(4).toString('hex')}`;
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(src, { highWaterMark: 1024 * 1024 }), tap, createWriteStream(tmp, { flags: 'wx' }));
    const sha256 = hash.digest('hex');
    if (expectedSha256 !== undefined && sha256 !== expectedSha256) throw new ChecksumMismatch(src, expectedSha256, sha256);
    const fh = await open(tmp, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    const st = await stat(src);
    await utimes(tmp, st.atime, st.mtime);
    if (copyingStopped) throw new CopyingStopped();
    await rename(tmp, dest);
    return { sha256, size };
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Path of a blob inside a blobs folder (`ab/cd/<sha>`), same layout as the blob store. */
export const blobRel = (sha: string) => `${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}`;
