import { describe, expect, it } from 'vitest';
import { FieldIndex, type Alt, type StoredDoc } from '../../server/search/field-index.ts';

/** A small deterministic generator (the relevance fixture's LCG would do; kept local and tiny). */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const COMMON = ['cao', 'bằng', 'lao', 'động', 'giáo', 'dục', 'văn', 'hóa'];
const RARE = ['pác', 'bó', 'thác', 'giốc'];

function doc(id: number, rnd: () => number): StoredDoc {
  const words = (n: number) => Array.from({ length: n }, () => (rnd() < 0.06 ? RARE : COMMON)[Math.floor(rnd() * 4 + (rnd() < 0.5 ? 0 : 4)) % 4]).join(' ');
  return { id, title: words(4), agency: '', subjects: words(2), meta: words(20) };
}

const asMap = (r: { ids: Int32Array; scores: Float64Array; n: number }) => {
  const m = new Map<number, number>();
  for (let i = 0; i < r.n; i++) m.set(r.ids[i], r.scores[i]);
  return m;
};

describe('FieldIndex.match', () => {
  it('intersecting the rarest group first gives the same matches and the very same scores', () => {
    const rnd = rng(7);
    const index = new FieldIndex();
    index.load(Array.from({ length: 3000 }, (_, i) => doc(i + 1, rnd)));
    // Re-indexed (delta) and removed documents take part too.
    for (let id = 1; id <= 3000; id += 37) index.upsert(doc(id, rnd));
    for (let id = 5; id <= 3000; id += 101) index.remove(id);
    const queries: Alt[][][] = [
      [[{ term: 'cao', factor: 1 }], [{ term: 'pac', factor: 1 }]],
      [[{ term: 'lao', factor: 1 }], [{ term: 'dong', factor: 1 }], [{ term: 'thac', factor: 1 }, { term: 'gioc', factor: 0.7 }]],
      [[{ term: 'giao', factor: 1 }], [{ term: 'duc', factor: 1 }], [{ term: 'giao duc', factor: 0.5 }]],
      [[{ term: 'van', factor: 1 }, { term: 'vat', factor: 0.8 }], [{ term: 'bo', factor: 1 }], [{ term: 'hoa', factor: 1 }], [{ term: 'cao', factor: 1 }]],
    ];
    const boosts: Alt[] = [{ term: '=bằng', factor: 2 }, { term: 'cao bang', factor: 1.5 }];
    let compared = 0;
    for (const groups of queries) {
      const and = asMap(index.match(groups, boosts, 'and'));
      // `or` needing every group walks the groups in their own order with the plain loop.
      const all = asMap(index.match(groups, boosts, 'or', groups.length));
      expect([...and.keys()].sort((a, b) => a - b)).toEqual([...all.keys()].sort((a, b) => a - b));
      for (const [d, s] of and) expect(s).toBe(all.get(d));
      compared += and.size;
    }
    expect(compared).toBeGreaterThan(20);
  });
});
