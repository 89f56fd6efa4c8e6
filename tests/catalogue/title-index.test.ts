import { describe, expect, it } from 'vitest';
import { findLikelyDuplicates } from '../../server/catalogue/duplicates.ts';
import { titleSimilarity } from '../../server/catalogue/fold.ts';
import { similarTitles } from '../../server/catalogue/title-index.ts';
import { openDatabase } from '../../server/db/client.ts';

describe('title-similarity index', () => {
  const { sqlite } = openDatabase(':memory:');
  const add = (title: string, updatedAt: string) =>
    Number(sqlite.prepare(`INSERT INTO products (title, type, updated_at) VALUES (?, 'book', ?)`).run(title, updatedAt).lastInsertRowid);
  const a = add('Địa lý - Lịch sử tỉnh Cao Bằng', '2023-01-01T00:00:00.000Z');
  const b = add('Bản đồ du lịch Cao Bằng', '2023-01-02T00:00:00.000Z');
  // Filler so the prefix filter has common and rare trigrams to choose between.
  for (let i = 0; i < 300; i++) add(`Tờ rơi tuyên truyền số ${i} về ứng xử văn minh du lịch`, '2023-01-03T00:00:00.000Z');

  it('finds exactly the titles a full comparison would find', () => {
    const query = 'Dia ly lich su tinh Cao Bang (tai ban)';
    const all = (sqlite.prepare('SELECT id, title FROM products').all() as { id: number; title: string }[])
      .filter((r) => titleSimilarity(query, r.title) >= 0.6)
      .map((r) => r.id)
      .sort((x, y) => x - y);
    expect(similarTitles(sqlite, query, 0.6).map((x) => x.id).sort((x, y) => x - y)).toEqual(all);
    expect(all).toEqual([a]);
    const leaflet = 'Tờ rơi tuyên truyền số 7 về ứng xử văn minh du lịch';
    const brute = (sqlite.prepare('SELECT id, title FROM products').all() as { id: number; title: string }[]).filter((r) => titleSimilarity(leaflet, r.title) >= 0.6).length;
    expect(similarTitles(sqlite, leaflet, 0.6)).toHaveLength(brute);
  });

  it('catches up with edits, withdrawals and deletions', () => {
    sqlite.prepare(`UPDATE products SET title = 'Bảo vật quốc gia ở Cao Bằng', updated_at = '2023-02-01T00:00:00.000Z' WHERE id = ?`).run(b);
    expect(similarTitles(sqlite, 'Bảo vật quốc gia ở Cao Bằng', 0.6).map((x) => x.id)).toEqual([b]);
    expect(similarTitles(sqlite, 'Bản đồ du lịch Cao Bằng', 0.6).map((x) => x.id)).not.toContain(b);
    sqlite.prepare(`UPDATE products SET state = 'withdrawn', updated_at = '2023-02-02T00:00:00.000Z' WHERE id = ?`).run(a);
    expect(similarTitles(sqlite, 'Địa lý - Lịch sử tỉnh Cao Bằng', 0.6)).toEqual([]);
    sqlite.prepare('DELETE FROM products WHERE id = ?').run(b);
    expect(findLikelyDuplicates(sqlite, { title: 'Bảo vật quốc gia ở Cao Bằng' })).toEqual([]);
  });

  it('agrees with a full comparison on random titles, scores included', () => {
    const db = openDatabase(':memory:').sqlite;
    const syl = ['tuyên', 'truyền', 'Cao', 'Bằng', 'đề', 'án', 'giáo', 'dục', 'lịch', 'sử', 'văn', 'hoá', 'Pác', 'Bó', 'số', 'tờ', 'rơi', 'bản', 'đồ', 'du'];
    let x = 7;
    const rnd = (n: number) => ((x = (x * 1103515245 + 12345) & 0x7fffffff) % n);
    const title = () => Array.from({ length: 2 + rnd(6) }, () => syl[rnd(syl.length)]).join(' ') + (rnd(3) === 0 ? ` ${rnd(50)}` : '');
    for (let i = 0; i < 400; i++) db.prepare(`INSERT INTO products (title, type, updated_at) VALUES (?, 'book', ?)`).run(title(), `2023-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`);
    const rows = db.prepare('SELECT id, title FROM products').all() as { id: number; title: string }[];
    for (let k = 0; k < 60; k++) {
      const q = k % 4 === 0 ? rows[rnd(rows.length)].title : `${title()} qzx`;
      const brute = rows
        .map((r) => ({ id: r.id, score: titleSimilarity(q, r.title) }))
        .filter((r) => r.score >= 0.6)
        .sort((a, b) => a.id - b.id);
      const got = similarTitles(db, q, 0.6).sort((a, b) => a.id - b.id);
      expect(got.map((r) => r.id)).toEqual(brute.map((r) => r.id));
      got.forEach((r, i) => expect(r.score).toBeCloseTo(brute[i].score, 10));
    }
  });
  it('stays exact through many edits, withdrawals and deletions (stale postings compacted)', () => {
    const db = openDatabase(':memory:').sqlite;
    const syl = ['tờ', 'rơi', 'số', 'gấp', 'tuyên', 'truyền', 'Cao', 'Bằng', 'bầu', 'cử', 'Pác', 'Bó'];
    let x = 11;
    const rnd = (n: number) => ((x = (x * 1103515245 + 12345) & 0x7fffffff) % n);
    const title = () => Array.from({ length: 2 + rnd(4) }, () => syl[rnd(syl.length)]).join(' ') + ` ${rnd(30)}`;
    let clock = 0;
    const stamp = () => new Date(Date.UTC(2024, 0, 1) + ++clock).toISOString();
    for (let i = 0; i < 200; i++) db.prepare(`INSERT INTO products (title, type, updated_at) VALUES (?, 'book', ?)`).run(title(), stamp());
    // 30 rounds of 40 random changes (a few hundred posting-list compactions on the way), each
    // followed by a query checked against a full comparison.
    for (let round = 0; round < 30; round++) {
      for (let k = 0; k < 40; k++) {
        const ids = (db.prepare('SELECT id FROM products').all() as { id: number }[]).map((r) => r.id);
        const id = ids[rnd(ids.length)];
        const op = rnd(10);
        if (op < 7) db.prepare('UPDATE products SET title = ?, updated_at = ? WHERE id = ?').run(title(), stamp(), id);
        else if (op < 8) db.prepare(`UPDATE products SET state = 'withdrawn', updated_at = ? WHERE id = ?`).run(stamp(), id);
        else if (op < 9) db.prepare('DELETE FROM products WHERE id = ?').run(id);
        else db.prepare(`INSERT INTO products (title, type, updated_at) VALUES (?, 'book', ?)`).run(title(), stamp());
      }
      const rows = db.prepare(`SELECT id, title FROM products WHERE state <> 'withdrawn'`).all() as { id: number; title: string }[];
      const q = title();
      const brute = rows.filter((r) => titleSimilarity(q, r.title) >= 0.6).map((r) => r.id);
      // Deleted rows are left to the caller's final check (duplicates.ts): compare over live rows.
      const live = new Set(rows.map((r) => r.id));
      const got = similarTitles(db, q, 0.6).map((r) => r.id).filter((id) => live.has(id));
      expect(got.sort((a, b) => a - b)).toEqual(brute.sort((a, b) => a - b));
    }
  });
});
