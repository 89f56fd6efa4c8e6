/** The search index seam: one in-process implementation today (see service.ts and docs/search.md). */
export { createSearchService, type SearchService, type SearchDeps } from './service.ts';
export { defaultSearchWorkers } from './query-workers.ts';
export type { SearchParams, SearchResponse, SearchHit, Snippet, Suggestion, SortOrder, HitAgency } from './types.ts';
export { fold, foldForIndex, tokenize } from './fold.ts';
