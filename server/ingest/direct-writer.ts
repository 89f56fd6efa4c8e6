/**
 * Writing a large upload with O_DIRECT: the bytes go from four reused, page-aligned 1 MiB buffers
 * straight to the disk, never through the page cache. On this VM, filling the page cache with a
 * GiB of new file data cost 1.1-3.6 s of system CPU (0.34 s when the pages had just been freed),
 * more than hashing and parsing together; direct writes cost almost none and leave the cache to
 * the files people read.
 *
 * O_DIRECT needs the buffer address, the file offset and the length aligned to the block size.
 * JS cannot ask for an aligned Buffer, but a WebAssembly.Memory is page-aligned: its 4 MiB hold the
 * four slots. Whole 4 KiB blocks are written direct; the last partial block goes through a normal
 * descriptor, and the caller's fsync covers both. Where O_DIRECT is refused (tmpfs, some network
 * file systems) `openDirect` returns null and the caller writes through the page cache.
 */
import { constants } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { sharedHash, type SharedHash } from './hash-worker.ts';

export const DIRECT_BLOCK = 4096;
const SLOT = 1024 * 1024;
const SLOTS = 4;

/** Reused aligned memories (each 4 slots): at most a few large uploads run at once. */
const pool: WebAssembly.Memory[] = [];
const POOL_MAX = 4;

/** A shared memory where the platform allows it (the hash thread reads the slots in place), else a plain one. */
function newMemory(): WebAssembly.Memory {
  const pages = (SLOTS * SLOT) / 65536;
  try {
    return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  } catch {
    return new WebAssembly.Memory({ initial: pages });
  }
}

export interface DirectWriter {
  /**
   * Copy `chunk` in. Returns undefined when its bytes are queued at once, or a promise when it had
   * to wait for a slot (all four busy): no promise per chunk on the fast path.
   */
  write(chunk: Buffer): Promise<void> | undefined;
  /** Write what is left (the partial last block through a normal descriptor) and wait for every write. */
  finish(): Promise<void>;
  /** The direct descriptor: fsync it (it flushes the whole file, tail included), then close it. */
  readonly handle: FileHandle;
  /** Wait for writes in flight and give the buffers back (also after a failure). */
  release(): Promise<void>;
  /**
   * True when this writer computes the SHA-256 of what it writes, on the hash thread
   * (hash-worker.ts), over its shared slots: the caller then does not hash, and asks `digest()`.
   */
  readonly hashing: boolean;
  /** The SHA-256 (hex) of every byte written, after `finish()`. */
  digest(): Promise<string>;
}

/** Open `path` (created, must not exist) for direct writes, or null when the file system refuses O_DIRECT. */
export async function openDirect(path: string): Promise<DirectWriter | null> {
  if (constants.O_DIRECT === undefined) return null;
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT, 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EINVAL') return null;
    throw e;
  }
  let memory: WebAssembly.Memory;
  try {
    memory = pool.pop() ?? newMemory();
  } catch {
    // No WebAssembly (e.g. node --jitless): no aligned buffers, so write through the page cache.
    await handle.close();
    await unlink(path).catch(() => {});
    return null;
  }
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer ? memory.buffer : null;
  const hash: SharedHash | null = shared ? sharedHash() : null;
  const slots = Array.from({ length: SLOTS }, (_, i) => Buffer.from(memory.buffer, i * SLOT, SLOT));
  const busy: Array<Promise<unknown> | null> = Array(SLOTS).fill(null);
  let errored: unknown = null;
  let current = 0;
  let fill = 0;
  let position = 0;
  let released = false;

  /** Write the slot's first `length` bytes at the current position, and hash its first `hashLength` (in order). */
  const submit = (slot: number, length: number, hashLength = length) => {
    const at = position;
    position += length;
    const write = (async () => {
      let done = 0;
      while (done < length) done += (await handle.write(slots[slot], done, length - done, at + done)).bytesWritten;
    })();
    // The slot is free again once it is both written and hashed.
    busy[slot] = Promise.all([write, hash && hashLength > 0 ? hash.update(shared!, slot * SLOT, hashLength) : null]).catch((e) => {
      errored ??= e;
    });
  };
  const claim = async (slot: number) => {
    const p = busy[slot];
    if (p) await p;
    busy[slot] = null;
    if (errored) throw errored;
  };
  /** Copy from `off` on; when the next slot is still being written, continue after it is free. */
  const copyFrom = (chunk: Buffer, off: number): Promise<void> | undefined => {
    while (off < chunk.length) {
      if (fill === 0) {
        if (busy[current]) {
          const from = off;
          return claim(current).then(() => copyFrom(chunk, from));
        }
        if (errored) throw errored;
      }
      const n = Math.min(SLOT - fill, chunk.length - off);
      chunk.copy(slots[current], fill, off, off + n);
      fill += n;
      off += n;
      if (fill === SLOT) {
        submit(current, SLOT);
        current = (current + 1) % SLOTS;
        fill = 0;
      }
    }
    return undefined;
  };
  const settle = async () => {
    await Promise.all(busy.filter(Boolean));
    busy.fill(null);
  };

  return {
    handle,
    write(chunk) {
      return copyFrom(chunk, 0);
    },
    async finish() {
      const whole = fill - (fill % DIRECT_BLOCK);
      const tail = fill - whole;
      // The whole blocks go direct; the hash takes the tail too, since it follows them.
      if (fill > 0) submit(current, whole, fill);
      await settle();
      if (errored) throw errored;
      if (tail > 0) {
        // The partial last block cannot go direct: write it through the page cache.
        const buffered = await open(path, 'r+');
        try {
          const from = slots[current].subarray(whole, fill);
          let done = 0;
          while (done < tail) done += (await buffered.write(from, done, tail - done, position + done)).bytesWritten;
        } finally {
          await buffered.close();
        }
        position += tail;
      }
      fill = 0;
    },
    async release() {
      if (released) return;
      released = true;
      await settle();
      hash?.drop();
      if (pool.length < POOL_MAX) pool.push(memory);
    },
    hashing: hash !== null,
    async digest() {
      if (!hash) throw new Error('this direct writer does not hash');
      await settle();
      if (errored) throw errored;
      return hash.digest();
    },
  };
}

