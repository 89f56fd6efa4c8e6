/**
 * The two cheap paths of the write path's durability steps: the WAL flush through one kept
 * descriptor (server/db/client.ts) and the blob store's rename for content no record refers to
 * (server/storage/blob-store.ts).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/client.ts';
import { createLocalBlobStore } from '../../server/storage/blob-store.ts';

const openFds = () => readdirSync('/proc/self/fd').length;
mkdirSync('.vitest-tmp', { recursive: true });

describe('write-path durability', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('flushes the WAL through one kept descriptor, across checkpoints, and closes it with the database', async () => {
    dir = mkdtempSync(join('.vitest-tmp', 'wal-'));
    const before = openFds();
    const db = openDatabase(join(dir, 'kho.sqlite'));
    db.sqlite.exec('CREATE TABLE t (v TEXT)');
    const insert = db.sqlite.prepare('INSERT INTO t VALUES (?)');
    insert.run('một');
    const beforeFlush = openFds();
    await db.syncWal();
    const withWal = openFds();
    expect(withWal).toBe(beforeFlush + 1); // the WAL's descriptor, kept for the next flushes
    for (let i = 0; i < 20; i++) {
      insert.run(`dòng ${i}`);
      // Truncating checkpoints rewrite the same WAL file: the kept descriptor stays valid.
      if (i % 5 === 0) db.sqlite.pragma('wal_checkpoint(TRUNCATE)');
      await Promise.all([db.syncWal(), db.syncWal()]);
    }
    expect(openFds()).toBe(withWal);
    db.close();
    expect(openFds()).toBe(before);
    const again = openDatabase(join(dir, 'kho.sqlite'));
    expect((again.sqlite.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(21);
    again.close();
  });

  it('moves content no record refers to with one rename, replacing an orphan of the same bytes', async () => {
    dir = mkdtempSync(join('.vitest-tmp', 'blobs-'));
    const store = createLocalBlobStore(join(dir, 'blobs'));
    const bytes = Buffer.from('Tờ gấp giới thiệu di tích Pác Bó');
    const sha = createHash('sha256').update(bytes).digest('hex');
    const dest = join(dir, 'blobs', sha.slice(0, 2), sha.slice(2, 4), sha);
    // An orphan left by an interrupted upload (linked, never committed).
    mkdirSync(join(dir, 'blobs', sha.slice(0, 2), sha.slice(2, 4)), { recursive: true });
    writeFileSync(dest, bytes);
    const temp = join(dir, 'upload-1');
    writeFileSync(temp, bytes);
    expect(await store.putFile(temp, sha, { absentFromCatalogue: true })).toEqual({ created: true });
    expect(existsSync(temp)).toBe(false);
    expect(readFileSync(dest)).toEqual(bytes);
    // Without the hint, stored bytes are never replaced: the second copy is dropped.
    const temp2 = join(dir, 'upload-2');
    writeFileSync(temp2, bytes);
    expect(await store.putFile(temp2, sha)).toEqual({ created: false });
    expect(existsSync(temp2)).toBe(false);
    // A shard folder removed behind the store's back is made again.
    rmSync(join(dir, 'blobs', sha.slice(0, 2)), { recursive: true });
    const temp3 = join(dir, 'upload-3');
    writeFileSync(temp3, bytes);
    expect(await store.putFile(temp3, sha, { absentFromCatalogue: true })).toEqual({ created: true });
    expect(readFileSync(dest)).toEqual(bytes);
  });
});
