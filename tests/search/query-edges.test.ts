/**
 * Queries and records at the edges found by probing the running service: a query made only of
 * tokens no index can hold, and records in a language stored under its ISO 639-3 code.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database_ } from '../../server/db/client.ts';
import { createSearchService, type SearchService } from '../../server/search/index.ts';

let db: Database_;
let search: SearchService;

const add = (title: string, fields: { languages?: string[]; state?: string; access?: string; description?: string } = {}) => {
  const id = Number(
    db.sqlite
      .prepare('INSERT INTO products(title, type, description, languages, state, access) VALUES (?, ?, ?, ?, ?, ?)')
      .run(title, 'book', fields.description ?? null, JSON.stringify(fields.languages ?? ['vi']), fields.state ?? 'published', fields.access ?? 'public')
      .lastInsertRowid,
  );
  search.indexProduct(id);
  return id;
};

beforeEach(() => {
  db = openDatabase(':memory:');
  search = createSearchService({ sqlite: db.sqlite });
  search.ensureReady();
});
afterEach(() => {
  search.close();
  db.close();
});

describe('a query of over-long tokens only', () => {
  it('finds nothing and says so, instead of listing the whole catalogue as an empty query does', () => {
    add('Lịch sử Đảng bộ huyện Hà Quảng');
    add('Bản đồ du lịch Cao Bằng');
    expect(search.search({ q: '' }, null).total).toBe(2);
    // A pasted SHA-256 or URL-like word is one token longer than any syllable.
    const sha = 'ab'.repeat(32);
    const r = search.search({ q: sha }, null);
    expect(r.total).toBe(0);
    expect(r.hits).toEqual([]);
    expect(r.mode).toBe('and');
    expect(r.ignored).toEqual([sha]);
    // Next to real syllables it is left out like any unknown syllable.
    const mixed = search.search({ q: `cao bang ${sha}` }, null);
    expect(mixed.hits.map((h) => h.title)).toEqual(['Bản đồ du lịch Cao Bằng']);
    expect(mixed.ignored).toEqual([sha]);
  });
});

describe('language names', () => {
  it('finds a record in Nùng (code nut, the one the record fields accept) by "tiếng Nùng"', () => {
    const nung = add('Truyện cổ dân gian', { languages: ['nut'] });
    add('Truyện cổ dân gian', { languages: ['vi'] });
    expect(search.search({ q: 'tiếng Nùng' }, null).hits.map((h) => h.id)).toEqual([nung]);
    expect(search.search({ q: 'truyen co tieng nung' }, null).hits.map((h) => h.id)).toEqual([nung]);
  });
});
