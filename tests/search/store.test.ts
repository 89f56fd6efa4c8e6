import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database_ } from '../../server/db/client.ts';
import { createTables, fingerprint, loadSnapshot, saveSnapshot } from '../../server/search/store.ts';

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
