/** O_DIRECT writing of large uploads (server/ingest/direct-writer.ts): every byte lands, whatever the chunking. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIRECT_BLOCK, openDirect } from '../../server/ingest/direct-writer.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// Under the project (a real disk, like storage/), in the ignored .vitest-tmp/ folder: /tmp may be tmpfs.
const TMP_ROOT = join(process.cwd(), '.vitest-tmp');
await mkdir(TMP_ROOT, { recursive: true });

// Probe once: on a file system that refuses O_DIRECT the writer returns null (the caller then
// writes through the page cache, tested in large-upload.test.ts) and these tests are skipped.
const probeDir = await mkdtemp(join(TMP_ROOT, 'direct-'));
const probe = await openDirect(join(probeDir, 'probe'));
if (probe) {
  await probe.release();
  await probe.handle.close();
}
await rm(probeDir, { recursive: true, force: true });

describe.runIf(probe !== null)('direct writer', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  // Sizes: a partial block only, whole slots, a partial last block, one byte past a slot.
  it.each([1, 4095, DIRECT_BLOCK, 3 * 1024 * 1024, 5 * 1024 * 1024 + 13, 9 * 1024 * 1024 + 1])('writes %i bytes exactly, in uneven chunks', async (size) => {
    const dir = await mkdtemp(join(TMP_ROOT, 'direct-'));
    dirs.push(dir);
    const path = join(dir, 'f');
    const data = randomBytes(size);
    const w = (await openDirect(path))!;
    let off = 0;
    let k = 0;
    while (off < size) {
      const n = Math.min(size - off, [1, 65536, 100_000, 7, 1024 * 1024 + 3][k++ % 5]);
      await w.write(data.subarray(off, off + n));
      off += n;
    }
    await w.finish();
    // The writer hashes what it writes on the hash thread, reading its shared slots in place.
    expect(w.hashing).toBe(true);
    expect(await w.digest()).toBe(sha(data));
    await w.release();
    await w.handle.sync();
    await w.handle.close();
    expect((await stat(path)).size).toBe(size);
    expect(sha(await readFile(path))).toBe(sha(data));
  });

  it('hashes concurrent uploads apart, each in its own order, on the one hash thread', async () => {
    const dir = await mkdtemp(join(TMP_ROOT, 'direct-'));
    dirs.push(dir);
    const datas = [randomBytes(6 * 1024 * 1024 + 5), randomBytes(4 * 1024 * 1024 + 4097), randomBytes(2 * 1024 * 1024)];
    const writers = await Promise.all(datas.map((_, i) => openDirect(join(dir, `f${i}`)).then((w) => w!)));
    const offsets = datas.map(() => 0);
    // Interleave the three uploads chunk by chunk.
    for (let step = 0; offsets.some((o, i) => o < datas[i].length); step++) {
      await Promise.all(
        writers.map(async (w, i) => {
          const n = Math.min(datas[i].length - offsets[i], 65536 + ((step * 7919 + i * 104729) % 300_000));
          if (n <= 0) return;
          await w.write(datas[i].subarray(offsets[i], offsets[i] + n));
          offsets[i] += n;
        }),
      );
    }
    for (const w of writers) await w.finish();
    expect(await Promise.all(writers.map((w) => w.digest()))).toEqual(datas.map(sha));
    for (const w of writers) {
      await w.release();
      await w.handle.close();
    }
  });

  it('refuses to overwrite an existing file', async () => {
    const dir = await mkdtemp(join(TMP_ROOT, 'direct-'));
    dirs.push(dir);
    const w = (await openDirect(join(dir, 'f')))!;
    await w.release();
    await w.handle.close();
    await expect(openDirect(join(dir, 'f'))).rejects.toMatchObject({ code: 'EEXIST' });
  });
});
