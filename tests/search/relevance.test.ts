/**
 * The judged relevance set (tests/search/relevance/queries.json, 118 queries over a fixed Vietnamese
 * catalogue). Thresholds are the level reached when they were set (MRR 1.0, nDCG@10 0.9868, lowest
 * class nDCG@10 0.968, page accuracy 1.0), minus rounding slack: a ranking change that loses relevance
 * fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database_ } from '../../server/db/client.ts';
import { createSearchService, type SearchService } from '../../server/search/index.ts';
import { loadCatalogue, type LoadedCatalogue } from './relevance/fixture.ts';
import { evaluate, judgedQueries, type Evaluation } from './relevance/evaluate.ts';

export const RELEVANCE_THRESHOLDS = { mrr: 1, ndcg10: 0.985, pageAccuracy: 1, perClassNdcg10: 0.965 };

let db: Database_;
let search: SearchService;
let cat: LoadedCatalogue;
let ev: Evaluation;

beforeAll(() => {
  db = openDatabase(':memory:');
  cat = loadCatalogue(db.sqlite);
  search = createSearchService({ sqlite: db.sqlite });
  search.ensureReady();
  ev = evaluate(search, cat);
});
afterAll(() => {
  search.close();
  db.close();
});

describe('relevance on the judged Vietnamese query set', () => {
  it('has at least 60 judged queries covering every class', () => {
    const qs = judgedQueries();
    expect(qs.length).toBeGreaterThanOrEqual(60);
    const classes = new Set(qs.map((q) => q.class));
    for (const c of ['no-diacritics', 'd-dj', 'exact-diacritics', 'phrase', 'typo', 'prefix', 'filter', 'page', 'abbreviation', 'run-together', 'pasted']) expect(classes).toContain(c);
    // Every judged key exists in the catalogue (a typo in the judgments would silently score 0).
    for (const q of qs) for (const k of Object.keys(q.relevant)) expect(cat.ids.has(k), `${q.q}: ${k}`).toBe(true);
  });

  it(`keeps MRR >= ${RELEVANCE_THRESHOLDS.mrr} and nDCG@10 >= ${RELEVANCE_THRESHOLDS.ndcg10}`, () => {
    expect(ev.mrr, JSON.stringify(ev.worst.slice(0, 5))).toBeGreaterThanOrEqual(RELEVANCE_THRESHOLDS.mrr);
    expect(ev.ndcg10, JSON.stringify(ev.worst.slice(0, 5))).toBeGreaterThanOrEqual(RELEVANCE_THRESHOLDS.ndcg10);
  });

  it('keeps every query class above its floor', () => {
    for (const [name, c] of Object.entries(ev.byClass)) expect(c.ndcg10, name).toBeGreaterThanOrEqual(RELEVANCE_THRESHOLDS.perClassNdcg10);
  });

  it('names the expected PDF page for every page-hit query', () => {
    expect(ev.pageAccuracy).toBeGreaterThanOrEqual(RELEVANCE_THRESHOLDS.pageAccuracy);
  });
});
