/**
 * Relevance evaluation over the judged query set: MRR and nDCG@10 (graded, gains 2^g − 1),
 * plus the share of page-hit queries whose expected PDF page is named in a snippet.
 */
import { readFileSync } from 'node:fs';
import type { SearchService } from '../../../server/search/index.ts';
import type { SearchParams } from '../../../server/search/types.ts';
import type { LoadedCatalogue } from './fixture.ts';

export interface JudgedQuery {
  class: string;
  q: string;
  nfd?: boolean;
  filters?: Omit<SearchParams, 'q'>;
  relevant: Record<string, number>;
  /** Every public record of these agencies is relevant with this grade (judged by the agency, not by key). */
  relevantAgency?: Record<string, number>;
  page?: { key: string; page: number };
}

export const judgedQueries = (): JudgedQuery[] => JSON.parse(readFileSync(new URL('./queries.json', import.meta.url), 'utf8'));

export interface Evaluation {
  queries: number;
  mrr: number;
  ndcg10: number;
  pageAccuracy: number;
  byClass: Record<string, { n: number; mrr: number; ndcg10: number }>;
  worst: Array<{ q: string; class: string; ndcg10: number; top: string[] }>;
}

export function ndcgAt(ranked: number[], ideal: number[], k = 10): number {
  const dcg = (gs: number[]) => gs.slice(0, k).reduce((s, g, i) => s + (2 ** g - 1) / Math.log2(i + 2), 0);
  const idcg = dcg([...ideal].sort((a, b) => b - a));
  return idcg === 0 ? 0 : dcg(ranked) / idcg;
}

export function evaluate(search: SearchService, cat: LoadedCatalogue, queries = judgedQueries()): Evaluation {
  let mrr = 0;
  let ndcg = 0;
  let pageN = 0;
  let pageOk = 0;
  const byClass: Evaluation['byClass'] = {};
  const all: Evaluation['worst'] = [];
  for (const jq0 of queries) {
    const jq = { ...jq0, relevant: { ...jq0.relevant } };
    for (const [code, grade] of Object.entries(jq.relevantAgency ?? {})) {
      for (const [key, a] of cat.agencyOf) if (a === code && cat.isPublic.get(key)) jq.relevant[key] = Math.max(jq.relevant[key] ?? 0, grade);
    }
    const q = jq.nfd ? jq.q.normalize('NFD') : jq.q.normalize('NFC');
    const res = search.search({ ...jq.filters, q, limit: 10 }, null);
    const keys = res.hits.map((h) => cat.keys.get(h.id) ?? `#${h.id}`);
    const grades = keys.map((k) => jq.relevant[k] ?? 0);
    const first = grades.findIndex((g) => g > 0);
    const rr = first < 0 ? 0 : 1 / (first + 1);
    const nd = ndcgAt(grades, Object.values(jq.relevant));
    mrr += rr;
    ndcg += nd;
    const c = (byClass[jq.class] ??= { n: 0, mrr: 0, ndcg10: 0 });
    c.n++;
    c.mrr += rr;
    c.ndcg10 += nd;
    all.push({ q: jq.q, class: jq.class, ndcg10: nd, top: keys.slice(0, 5) });
    if (jq.page) {
      pageN++;
      const hit = res.hits.find((h) => cat.keys.get(h.id) === jq.page!.key);
      if (hit?.snippets.some((s) => s.page === jq.page!.page)) pageOk++;
    }
  }
  for (const c of Object.values(byClass)) {
    c.mrr = round(c.mrr / c.n);
    c.ndcg10 = round(c.ndcg10 / c.n);
  }
  all.sort((a, b) => a.ndcg10 - b.ndcg10);
  return {
    queries: queries.length,
    mrr: round(mrr / queries.length),
    ndcg10: round(ndcg / queries.length),
    pageAccuracy: pageN === 0 ? 1 : round(pageOk / pageN),
    byClass,
    worst: all.slice(0, 12),
  };
}

const round = (x: number) => Math.round(x * 10000) / 10000;
