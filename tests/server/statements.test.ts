/** The prepared-statement cache used on hot request paths (server/db/statements.ts). */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { cached } from '../../server/db/statements.ts';

describe('cached statements', () => {
  let db: Database.Database;
  afterEach(() => db?.close());

  it('prepares each SQL text once per connection, and apart per connection', () => {
    db = new Database(':memory:');
    const other = new Database(':memory:');
    const a = cached(db, 'SELECT 1 AS n');
    expect(cached(db, 'SELECT 1 AS n')).toBe(a);
    expect(cached(other, 'SELECT 1 AS n')).not.toBe(a);
    expect(a.get()).toEqual({ n: 1 });
    other.close();
  });

  it('hands out a fresh statement while the cached one is still iterating', () => {
    db = new Database(':memory:');
    db.exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('một'), ('hai'), ('ba')");
    const sql = 'SELECT v FROM t ORDER BY rowid';
    const outer = cached(db, sql);
    const seen: string[] = [];
    for (const row of outer.iterate() as Iterable<{ v: string }>) {
      const inner = cached(db, sql);
      expect(inner).not.toBe(outer);
      seen.push(`${row.v}:${(inner.all() as Array<{ v: string }>).length}`);
    }
    expect(seen).toEqual(['một:3', 'hai:3', 'ba:3']);
    expect(cached(db, sql)).toBe(outer);
  });

  it('stays bounded with dynamic SQL (IN lists of every length)', () => {
    db = new Database(':memory:');
    const first = cached(db, 'SELECT 1 WHERE 1 IN (?)');
    for (let n = 2; n <= 400; n++) cached(db, `SELECT 1 WHERE 1 IN (${Array(n).fill('?').join(',')})`);
    // The oldest entries were evicted: asking again prepares a new statement.
    expect(cached(db, 'SELECT 1 WHERE 1 IN (?)')).not.toBe(first);
  });
});
