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
    expect(expectAndAsOr(index, queries, boosts)).toBeGreaterThan(20);
  });
});

/** 20,000 documents that all hold "cao" (so its list is long) and a few that hold "pác bó". */
function longListIndex(): { index: FieldIndex; docs: StoredDoc[] } {
  const rnd = rng(11);
  const docs: StoredDoc[] = [];
  for (let id = 1; id <= 20_000; id++) {
    const rare = id % 997 === 0 || id % 1499 === 0 ? 'pác bó' : '';
    const marked = rnd() < 0.5 ? 'Cao Bằng' : 'cao bàng';
    docs.push({ id, title: `${marked} ${rare} ${COMMON[Math.floor(rnd() * COMMON.length)]}`, agency: '', subjects: '', meta: COMMON[Math.floor(rnd() * COMMON.length)] });
  }
  const index = new FieldIndex();
  index.load(docs);
  return { index, docs };
}

const LOOKUP_QUERIES: Alt[][][] = [
  [[{ term: 'cao', factor: 1 }], [{ term: 'pac', factor: 1 }]],
  [[{ term: 'cao', factor: 1 }], [{ term: 'bang', factor: 1 }, { term: 'bo', factor: 0.7 }], [{ term: 'pac bo', factor: 1 }]],
  [[{ term: 'giao', factor: 1 }, { term: 'van', factor: 0.8 }], [{ term: 'cao', factor: 1 }], [{ term: 'bo', factor: 1 }]],
];
const LOOKUP_BOOSTS: Alt[] = [{ term: '=bằng', factor: 2 }, { term: 'cao bang', factor: 1.5 }];

/**
 * `and` (rarest group first, looking the few documents left up in long lists) against `or` needing every
 * group, which walks the groups in their own order with the plain loop: the same matches and the very
 * same scores. Returns how many matches were compared.
 */
function expectAndAsOr(index: FieldIndex, queries: Alt[][][], boosts: Alt[]): number {
  let compared = 0;
  for (const groups of queries) {
    const and = asMap(index.match(groups, boosts, 'and'));
    const all = asMap(index.match(groups, boosts, 'or', groups.length));
    expect([...and.keys()].sort((a, b) => a - b)).toEqual([...all.keys()].sort((a, b) => a - b));
    for (const [d, s] of and) expect(s).toBe(all.get(d));
    compared += and.size;
  }
  return compared;
}
const expectLookupsAsWalks = (index: FieldIndex): number => expectAndAsOr(index, LOOKUP_QUERIES, LOOKUP_BOOSTS);

/** How many times a snapshot's posting lists step down (a later doc id not above the one before it). */
function descentsOf(snap: ReturnType<FieldIndex['snapshot']>): number {
  const off = new Int32Array(snap.off.buffer, snap.off.byteOffset, snap.off.byteLength / 4);
  const ids = new Int32Array(snap.docs.buffer, snap.docs.byteOffset, snap.docs.byteLength / 4);
  let descents = 0;
  for (let t = 0; t + 1 < off.length; t++) for (let i = off[t] + 1; i < off[t + 1]; i++) if (ids[i] <= ids[i - 1]) descents++;
  return descents;
}

describe('FieldIndex lookups in long posting lists', () => {
  it('match as walking the lists does, with re-indexed, removed and compacted documents', () => {
    const { index, docs } = longListIndex();
    expect(expectLookupsAsWalks(index)).toBeGreaterThan(30);
    // Re-indexed documents (the delta, some newly holding the rare words) and removed ones.
    for (let id = 3; id <= 20_000; id += 211) index.upsert({ ...docs[id - 1], meta: `${docs[id - 1].meta} pác bó` });
    for (let id = 997; id <= 20_000; id += 1994) index.remove(id);
    expect(index.deltaSize).toBeGreaterThan(50);
    expect(expectLookupsAsWalks(index)).toBeGreaterThan(100);
    // Compacted: the delta merged into the lists, which still ascend.
    index.compact();
    expect(descentsOf(index.snapshot())).toBe(0);
    expect(expectLookupsAsWalks(index)).toBeGreaterThan(100);
  });

  it('walk a list that does not ascend (a snapshot written before lists were kept in order)', () => {
    const { index } = longListIndex();
    const before = LOOKUP_QUERIES.map((g) => asMap(index.match(g, LOOKUP_BOOSTS, 'and')));
    const snap = index.snapshot();
    // Every list reversed, weights with their documents.
    const off = new Int32Array(snap.off.buffer, snap.off.byteOffset, snap.off.byteLength / 4);
    const ids = new Int32Array(snap.docs.buffer.slice(snap.docs.byteOffset, snap.docs.byteOffset + snap.docs.byteLength));
    const ws = new Uint16Array(snap.w.buffer.slice(snap.w.byteOffset, snap.w.byteOffset + snap.w.byteLength));
    for (let t = 0; t + 1 < off.length; t++) {
      ids.subarray(off[t], off[t + 1]).reverse();
      ws.subarray(off[t], off[t + 1]).reverse();
    }
    const restored = new FieldIndex();
    restored.restore({ ...snap, docs: Buffer.from(ids.buffer), w: Buffer.from(ws.buffer) });
    const after = LOOKUP_QUERIES.map((g) => asMap(restored.match(g, LOOKUP_BOOSTS, 'and')));
    // A record holding the pair and the marked spelling, through lists that are walked instead.
    for (const accept of [() => true, (d: number) => d % 997 === 0, () => false]) {
      expect(restored.anyDocHoldingAll(['cao bang', '=bằng', 'pac bo'], accept)).toBe(index.anyDocHoldingAll(['cao bang', '=bằng', 'pac bo'], accept));
    }
    expect(restored.anyDocHoldingAll(['cao bang', '=bằng', 'pac bo'], () => true)).toBe(true);
    // The next compaction (a change, then a snapshot) puts the lists in order again, weights with their documents.
    restored.upsert({ id: 20_001, title: 'Pác Bó Cao Bằng', agency: '', subjects: '', meta: '' });
    const withDelta = LOOKUP_QUERIES.map((g) => asMap(restored.match(g, LOOKUP_BOOSTS, 'and')));
    const healed = restored.snapshot();
    expect(descentsOf(healed)).toBe(0);
    const again = new FieldIndex();
    again.restore(healed);
    for (let q = 0; q < withDelta.length; q++) {
      const m = asMap(again.match(LOOKUP_QUERIES[q], LOOKUP_BOOSTS, 'and'));
      expect(m.size).toBe(withDelta[q].size);
      for (const [d, sc] of withDelta[q]) expect(m.get(d)).toBe(sc);
    }
    expect(withDelta[0].has(20_001)).toBe(true);
    expect(after.map((m) => m.size)).toEqual(before.map((m) => m.size));
    for (let q = 0; q < before.length; q++) for (const [d, s] of before[q]) expect(after[q].get(d)).toBe(s);
    expect(expectLookupsAsWalks(restored)).toBeGreaterThan(30);
  });
});

describe('FieldIndex.anyDocHoldingAll', () => {
  it('answers as a look at every document does', () => {
    const { index, docs } = longListIndex();
    for (let id = 7; id <= 20_000; id += 313) index.upsert({ ...docs[id - 1], title: `Pác Bó ${docs[id - 1].title}` });
    for (let id = 1499; id <= 20_000; id += 2998) index.remove(id);
    const holds = (d: StoredDoc, term: string): boolean => {
      const toks = [d.title, d.subjects, d.agency, d.meta].join(' | ');
      if (term === '=bằng') return /(^|\s)bằng(\s|$)/i.test(toks);
      if (term === 'pac bo') return /pác bó/i.test(toks);
      if (term === 'cao bang') return /cao (bằng|bàng)/i.test(toks);
      throw new Error(term);
    };
    const current = new Map<number, StoredDoc>(docs.map((d) => [d.id, d]));
    for (let id = 7; id <= 20_000; id += 313) current.set(id, { ...docs[id - 1], title: `Pác Bó ${docs[id - 1].title}` });
    for (let id = 1499; id <= 20_000; id += 2998) current.delete(id);
    const accepts: Array<(d: number) => boolean> = [() => true, (d) => d % 3 === 0, (d) => d === 14_955, (d) => d === 2, () => false];
    const termSets = [['pac bo', '=bằng'], ['cao bang', '=bằng', 'pac bo'], ['pac bo', 'nowhere']];
    let yes = 0;
    for (const terms of termSets) {
      for (const accept of accepts) {
        const expected = terms.includes('nowhere') ? false : [...current.values()].some((d) => accept(d.id) && terms.every((t) => holds(d, t)));
        expect(index.anyDocHoldingAll(terms, accept)).toBe(expected);
        if (expected) yes++;
      }
    }
    expect(yes).toBeGreaterThan(3);
  });
});
