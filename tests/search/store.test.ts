import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database_ } from '../../server/db/client.ts';
import { createSearchService, type SearchService } from '../../server/search/index.ts';
import { createTables, fingerprint, loadSnapshot, loadSnapshotFile, saveSnapshot, saveSnapshotFile } from '../../server/search/store.ts';
import { loadCatalogue } from './relevance/fixture.ts';

let db: Database_;
beforeEach(() => {
  db = openDatabase(':memory:');
  createTables(db.sqlite);
});
afterEach(() => db.close());

describe('index snapshot', () => {
  it('stores large parts in chunks and reads them back whole, into shared memory when asked', () => {
    const big = Buffer.alloc(8 * 2 ** 20 * 2 + 12_345);
    for (let i = 0; i + 4 <= big.length; i += 4) big.writeUInt32LE(i, i);
    const small = Buffer.from([1, 2, 3]);
    saveSnapshot(db.sqlite, { meta: '{"x":1}', docs: big, len: small }, 'fp-1');
    const names = (db.sqlite.prepare('SELECT name FROM search_snapshot ORDER BY name').pluck().all() as string[]).join(' ');
    expect(names).toBe('docs#0 docs#1 docs#2 fingerprint len meta');
    expect(loadSnapshot(db.sqlite, 'fp-2')).toBeNull();
    for (const shared of [[], ['docs']]) {
      const parts = loadSnapshot(db.sqlite, 'fp-1', shared)!;
      expect(parts.meta.toString('utf8')).toBe('{"x":1}');
      expect(parts.len.equals(small)).toBe(true);
      expect(parts.docs.equals(big)).toBe(true);
      expect(parts.docs.buffer instanceof SharedArrayBuffer).toBe(shared.length > 0);
    }
  });

  it('reads a snapshot written in one row per part (before chunks)', () => {
    const put = db.sqlite.prepare('INSERT INTO search_snapshot(name, data) VALUES (?, ?)');
    put.run('docs', Buffer.from([9, 8, 7, 6]));
    put.run('fingerprint', Buffer.from('fp'));
    expect([...loadSnapshot(db.sqlite, 'fp', ['docs'])!.docs]).toEqual([9, 8, 7, 6]);
  });
});

describe('index snapshot in a file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kho-snapshot-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads back what it wrote, into shared memory when asked, and nothing for another key or a damaged file', () => {
    const file = join(dir, 'kho.sqlite-search');
    const big = Buffer.alloc(3 * 2 ** 20 + 5);
    for (let i = 0; i + 4 <= big.length; i += 4) big.writeUInt32LE(i * 7, i);
    const odd = Buffer.from([1, 2, 3]);
    saveSnapshotFile(file, { meta: '{"tên":"Cao Bằng"}', len: odd, docs: big }, 'v1:fp-1');
    expect(existsSync(`${file}.tmp`)).toBe(false);
    for (const shared of [[], ['docs', 'len']]) {
      const parts = loadSnapshotFile(file, 'v1:fp-1', shared)!;
      expect(parts.meta.toString('utf8')).toBe('{"tên":"Cao Bằng"}');
      expect(parts.len.equals(odd)).toBe(true);
      expect(parts.docs.equals(big)).toBe(true);
      expect(parts.docs.buffer instanceof SharedArrayBuffer).toBe(shared.length > 0);
      expect(parts.meta.buffer instanceof SharedArrayBuffer).toBe(false);
    }
    expect(loadSnapshotFile(file, 'v1:fp-2')).toBeNull();
    expect(loadSnapshotFile(join(dir, 'none'), 'v1:fp-1')).toBeNull();
    // Cut short: the last part no longer fits.
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, whole.length - 10));
    expect(loadSnapshotFile(file, 'v1:fp-1')).toBeNull();
    writeFileSync(file, Buffer.from('not a snapshot at all, just text'));
    expect(loadSnapshotFile(file, 'v1:fp-1')).toBeNull();
    writeFileSync(file, Buffer.concat([whole.subarray(0, 12), Buffer.from('{"key": broken')]));
    expect(loadSnapshotFile(file, 'v1:fp-1')).toBeNull();
  });

  it('is where a server on a database file keeps its index: restored from it, from the old rows once, and re-analysed without it', () => {
    const dbFile = join(dir, 'kho.sqlite');
    const snapFile = `${dbFile}-search`;
    const fileDb = openDatabase(dbFile);
    const cat = loadCatalogue(fileDb.sqlite, 40);
    const probe = ['cao bang', 'giáo dục truyền thống', 'bằng', 'thuc lucc', '"quê hương cách mạng"'];
    const answers = (s: SearchService) => probe.map((q) => s.search({ q, limit: 50 }, null).hits.map((h) => [h.id, h.score]));
    const first = createSearchService({ sqlite: fileDb.sqlite });
    first.ensureReady();
    const before = answers(first);
    expect(before[0].length).toBeGreaterThan(0);
    first.close();
    expect(existsSync(snapFile)).toBe(true);
    expect(fileDb.sqlite.prepare('SELECT count(*) FROM search_snapshot').pluck().get()).toBe(0);

    // The analysed fields in the database are gone: only the file can give the same answers.
    const docs = fileDb.sqlite.prepare('SELECT * FROM search_docs').all() as Array<Record<string, unknown>>;
    fileDb.sqlite.exec('DELETE FROM search_docs');
    const second = createSearchService({ sqlite: fileDb.sqlite });
    expect(second.ensureReady().rebuilt).toBe(false);
    expect(answers(second)).toEqual(before);
    second.close();

    // A data dir from before the file: the snapshot in rows is read once, then moved to the file.
    const raw = readFileSync(snapFile);
    const key = (JSON.parse(raw.subarray(12, 12 + raw.readUInt32LE(8)).toString('utf8')) as { key: string }).key;
    saveSnapshot(fileDb.sqlite, loadSnapshotFile(snapFile, key)!, key);
    rmSync(snapFile);
    const third = createSearchService({ sqlite: fileDb.sqlite });
    expect(third.ensureReady().rebuilt).toBe(false);
    expect(answers(third)).toEqual(before);
    third.close();
    expect(existsSync(snapFile)).toBe(true);
    expect(fileDb.sqlite.prepare('SELECT count(*) FROM search_snapshot').pluck().get()).toBe(0);

    // A damaged file is passed over: the fields are analysed again from the database.
    const insert = fileDb.sqlite.prepare('INSERT INTO search_docs(product_id, title, agency, subjects, meta) VALUES (@product_id, @title, @agency, @subjects, @meta)');
    for (const d of docs) insert.run(d);
    writeFileSync(snapFile, readFileSync(snapFile).subarray(0, 100));
    const fourth = createSearchService({ sqlite: fileDb.sqlite });
    expect(fourth.ensureReady().rebuilt).toBe(false);
    expect(answers(fourth)).toEqual(before);
    expect(fourth.search({ q: 'cao bang thuc luc' }, null).hits[0].id).toBe(cat.ids.get('thuc-luc'));
    fourth.close();
    fileDb.close();
  });
});

describe('fingerprint', () => {
  it('reads products through indexes, never by scanning the table (the start-up check at 100,000 records)', () => {
    const seen: string[] = [];
    const prepare = db.sqlite.prepare.bind(db.sqlite);
    const spy = ((sql: string) => {
      seen.push(sql);
      return prepare(sql);
    }) as typeof db.sqlite.prepare;
    db.sqlite.prepare = spy;
    try {
      expect(fingerprint(db.sqlite)).toMatch(/^0\/0\/0\/\//);
    } finally {
      db.sqlite.prepare = prepare;
    }
    const onProducts = seen.filter((sql) => /FROM products\b/.test(sql));
    expect(onProducts.length).toBeGreaterThan(0);
    for (const sql of onProducts) {
      const plan = (db.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
      expect(plan, sql).toMatch(/USING (COVERING )?INDEX|USING INTEGER PRIMARY KEY/);
    }
  });
});
