/**
 * Words typed with a Vietnamese input method's keys left in them (telex, VNI): read as the syllable
 * they spell when no record holds the word as typed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeTyping, spellsTyped } from '../../server/search/typing.ts';
import { openMemorySearch, type MemorySearch } from '../helpers/memory-search.ts';

describe('decodeTyping', () => {
  it('reads telex and VNI keys as the marks they stand for', () => {
    const cases: Array<[string, string, string]> = [
      ['vieetj', 'viêt', '\u0323'],
      ['vieejt', 'viêt', '\u0323'],
      ['dduwowngf', 'đương', '\u0300'],
      ['duowngf', 'đương'.replace('đ', 'd'), '\u0300'],
      ['thasc', 'thac', '\u0301'],
      ['bawfng', 'băng', '\u0300'],
      ['hoof', 'hô', '\u0300'],
      ['suwr', 'sư', '\u0309'],
      ['vie6t5', 'viêt', '\u0323'],
      ['ba82ng', 'băng', '\u0300'],
      ['d9uo7ng2', 'đương', '\u0300'],
      ['ngu7o7i2', 'ngươi', '\u0300'],
    ];
    for (const [w, skeleton, tone] of cases) expect(decodeTyping(w), w).toEqual({ skeleton, tone });
  });

  it('leaves words without such keys, numbers and junk alone', () => {
    for (const w of ['viet', 'cao', 'hmong', 'caobang', '1930', '12', 'x', 'qzxw', 'abcdefghijklmn', 'aaaaaaa', 'ss']) expect(decodeTyping(w), w).toBeNull();
  });

  it('matches a spelling with the same letters, vowel marks and tone', () => {
    const d = decodeTyping('vieetj')!;
    expect(spellsTyped('việt', d)).toBe(true);
    expect(spellsTyped('viết', d)).toBe(false);
    expect(spellsTyped('viêt', d)).toBe(false);
  });
});

describe('searching with telex or VNI leftovers', () => {
  let m: MemorySearch;
  beforeEach(() => {
    m = openMemorySearch();
  });
  afterEach(() => m.close());

  it('finds the records by the syllables meant, and prefers the spelling typed', () => {
    const road = m.add('Đường Hồ Chí Minh qua Cao Bằng');
    const now = m.add('Đương đầu với thiên tai ở Cao Bằng');
    m.add('Lịch sử Đảng bộ tỉnh');
    for (const q of ['dduwowngf Hoof Chis Minh', 'd9u7o7ng2 Ho62 Chi1 Minh']) {
      const r = m.search.search({ q }, null);
      expect(r.hits.map((h) => h.id), q).toEqual([road]);
      expect(r.corrections.map((c) => c.to), q).toEqual(['duong', 'ho', 'chi']);
      expect(r.ignored, q).toEqual([]);
    }
    // The tone typed ranks the record spelling it first.
    const r = m.search.search({ q: 'dduwowngf' }, null);
    expect(r.hits.map((h) => h.id)).toEqual([road, now]);
    expect(r.corrections).toEqual([{ from: 'dduwowngf', to: 'duong', display: 'đường' }]);
    expect(m.search.search({ q: 'dduwowng' }, null).hits[0]?.id).toBe(now);
  });
});
