/**
 * Search routes: GET /api/search (ranked hits, snippets, facets) and GET /api/suggest (as-you-type).
 * Thin: validation here, everything else in the search service (`app.searchIndex`). The viewer is
 * `req.principal`, so the catalogue's visibility rule applies to hits, totals, facets and suggestions.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { SearchService } from '../search/index.ts';
import { err } from '../errors.ts';
import { PRODUCT_STATES, PRODUCT_TYPES } from '../db/schema.ts';
import { ErrorSchema } from './schemas.ts';

/**
 * The service is decorated as `app.searchIndex` by server/plugins/search.ts (`app.search` is Fastify's
 * own SEARCH-method route shorthand). A bare app that decorated `search` with the service also works.
 */
export function searchServiceOf(app: FastifyInstance): SearchService {
  const candidates = [(app as unknown as { searchIndex?: SearchService }).searchIndex, (app as unknown as { search?: SearchService }).search];
  for (const s of candidates) if (s !== undefined && s !== null && typeof (s as SearchService).suggest === 'function') return s;
  throw new Error('search service is not decorated on the app (app.searchIndex)');
}

const Counts = Type.Record(Type.String(), Type.Integer());

/** A whole number as a query string writes it: decimal digits only (not `0x10`, `1e1`, ` 10`, `20.0`). */
const DECIMAL = /^\d{1,9}$/;

/**
 * What the schema lets through and a search must not take quietly (docs/search.md, API). Run before
 * validation, on the query string as sent:
 * - a key the endpoint does not take — `q[]=x` and `q[a]=1` (a client's encoder writing an array or an
 *   object: the query parser keeps `q[]` as its own key), a misspelt `lang=` — is 400 VALIDATION_FAILED
 *   naming it; before, it was dropped, and `q[]=x` listed the whole catalogue as if it had matched;
 * - a whole number written otherwise than in decimal digits is 400 (the schema's type coercion read
 *   `limit=0x10` as 16 and `limit=1e1` as 10), as for an id in a path.
 */
export function searchQueryGuard(keys: readonly string[], wholeNumbers: readonly string[]) {
  return async (req: FastifyRequest): Promise<void> => {
    const query = req.query as Record<string, unknown> | undefined;
    if (!query || typeof query !== 'object') return;
    for (const [key, value] of Object.entries(query)) {
      const name = key.length > 40 ? `${key.slice(0, 40)}…` : key;
      if (!keys.includes(key)) throw err.validation(name, `unknown query parameter "${name}" (this endpoint takes ${keys.join(', ')})`);
      if (wholeNumbers.includes(key) && typeof value === 'string' && !DECIMAL.test(value)) {
        throw err.validation(key, `querystring/${key} must be a whole number written in decimal digits`);
      }
    }
  };
}

/**
 * The filters whose values are a closed list — `type` (PRODUCT_TYPES) and `state` (PRODUCT_STATES), in any
 * case — refuse a value outside it with 400 VALIDATION_FAILED naming the field and the values allowed
 * (before, `type=boook` answered 200 with no hits, as `sort=boook` never did); and a year range backwards
 * is 400 YEAR_RANGE_INVERTED. `agency` and `language` stay open: an agency code or language no record uses
 * finds nothing.
 */
export function checkSearchFilters(q: { type?: string; state?: string; yearFrom?: number; yearTo?: number }): void {
  const closed: Array<['type' | 'state', readonly string[]]> = [['type', PRODUCT_TYPES], ['state', PRODUCT_STATES]];
  for (const [field, allowed] of closed) {
    for (const v of (q[field] ?? '').split(',')) {
      const value = v.trim();
      if (value !== '' && !allowed.includes(value.toLowerCase())) {
        throw err.validation(field, `${field}: "${value.length > 40 ? `${value.slice(0, 40)}…` : value}" is not one of ${allowed.join(', ')}`);
      }
    }
  }
  // A range backwards would silently match nothing.
  if (q.yearFrom !== undefined && q.yearTo !== undefined && q.yearFrom > q.yearTo) {
    throw err.validation('yearTo', `yearFrom (${q.yearFrom}) is after yearTo (${q.yearTo})`, 'YEAR_RANGE_INVERTED');
  }
}

export const SearchQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 4096, description: 'Free text; diacritics optional; "quoted phrases" are exact; -word and NOT word exclude; a OR b in capitals; parentheses group: (a OR b) c, c -(a b)' })),
  type: Type.Optional(Type.String({ maxLength: 500, description: 'Product type, or several separated by commas' })),
  agency: Type.Optional(Type.String({ maxLength: 500, description: 'Agency code or id, or several separated by commas' })),
  year: Type.Optional(Type.Integer({ minimum: 0, maximum: 9999 })),
  yearFrom: Type.Optional(Type.Integer({ minimum: 0, maximum: 9999 })),
  yearTo: Type.Optional(Type.Integer({ minimum: 0, maximum: 9999 })),
  language: Type.Optional(Type.String({ maxLength: 200, description: 'Language code (vi, tay, nut, hmn, dao, …)' })),
  state: Type.Optional(Type.String({ maxLength: 200, description: 'Workflow state (only changes anything for staff)' })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  sort: Type.Optional(Type.Union([Type.Literal('relevance'), Type.Literal('date'), Type.Literal('title')])),
});

const SnippetSchema = Type.Object({
  text: Type.String({ description: 'HTML-safe passage; matched words in <mark>' }),
  page: Type.Optional(Type.Integer({ description: '1-based PDF page (or slide, e-book section, sheet: see unit) of the passage' })),
  pageLabel: Type.Optional(Type.String({ description: "The PDF's own label of that page (\"ii\") when its page labels differ from the page numbers; page stays the physical page" })),
  unit: Type.Optional(Type.Union([Type.Literal('page'), Type.Literal('slide'), Type.Literal('section'), Type.Literal('sheet')], { description: 'What page counts' })),
  sha256: Type.Optional(Type.String()),
  field: Type.String(),
});

export const SearchResponseSchema = Type.Object({
  total: Type.Integer(),
  page: Type.Integer(),
  limit: Type.Integer(),
  hits: Type.Array(
    Type.Object({
      id: Type.Integer(),
      title: Type.String(),
      type: Type.String(),
      agency: Type.Union([Type.Object({ id: Type.Integer(), code: Type.String(), name: Type.String() }), Type.Null()]),
      year: Type.Union([Type.Integer(), Type.Null()]),
      score: Type.Number(),
      thumbnail: Type.Union([Type.String(), Type.Null()]),
      snippets: Type.Array(SnippetSchema),
    }),
  ),
  facets: Type.Object({ type: Counts, agency: Counts, year: Counts, language: Counts }, { description: 'agency is keyed by agency code' }),
  corrections: Type.Array(
    Type.Object({
      from: Type.String(),
      to: Type.String({ description: 'folded syllables searched for' }),
      display: Type.Optional(Type.String({ description: "as a reader writes them: H'Mông, Hồ Chí Minh" })),
    }),
  ),
  ignored: Type.Optional(Type.Array(Type.String())),
  expansions: Type.Optional(
    Type.Array(Type.Object({ from: Type.String(), to: Type.String(), display: Type.String() }), {
      description: 'abbreviations searched in both forms (UBND and Ủy ban nhân dân)',
    }),
  ),
  optional: Type.Optional(Type.Array(Type.String(), { description: 'edge words of a long query read as cut off: not required' })),
  unsearchable: Type.Optional(Type.Boolean({ description: 'something was typed but none of it can be searched for (control characters, punctuation only): no hits' })),
  mode: Type.String(),
  tookMs: Type.Number(),
});

export const SuggestQuery = Type.Object({
  q: Type.String({ maxLength: 4096 }),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, default: 8 })),
});

const SuggestResponseSchema = Type.Object({
  suggestions: Type.Array(
    Type.Object({
      text: Type.String(),
      productId: Type.Optional(Type.Integer()),
      agency: Type.Optional(Type.String({ description: "An agency suggestion's agency code (the search's `agency` filter)" })),
      kind: Type.Union([Type.Literal('title'), Type.Literal('agency'), Type.Literal('subject')]),
    }),
  ),
});

export default async function searchRoutes(app: FastifyInstance) {
  const service = () => searchServiceOf(app);
  app.get(
    '/api/search',
    {
      schema: {
        tags: ['search'],
        summary: 'Search the catalogue and the extracted text of its files (Vietnamese, with or without diacritics)',
        querystring: SearchQuery,
        response: { 200: SearchResponseSchema, 400: ErrorSchema },
      },
      preValidation: searchQueryGuard(Object.keys(SearchQuery.properties), ['year', 'yearFrom', 'yearTo', 'page', 'limit']),
    },
    async (req: FastifyRequest<{ Querystring: Static<typeof SearchQuery> }>, reply) => {
      reply.header('cache-control', 'private, no-cache');
      checkSearchFilters(req.query);
      // searchAsync: on a query worker thread when the service has one with room (see query-workers.ts).
      const s = service();
      return typeof s.searchAsync === 'function' ? s.searchAsync(req.query, req.principal ?? null) : s.search(req.query, req.principal ?? null);
    },
  );

  app.get(
    '/api/suggest',
    {
      schema: {
        tags: ['search'],
        summary: 'As-you-type suggestions: titles, agencies and subjects matching the typed prefix',
        querystring: SuggestQuery,
        response: { 200: SuggestResponseSchema, 400: ErrorSchema },
      },
      preValidation: searchQueryGuard(Object.keys(SuggestQuery.properties), ['limit']),
    },
    async (req: FastifyRequest<{ Querystring: Static<typeof SuggestQuery> }>, reply) => {
      reply.header('cache-control', 'private, no-cache');
      return { suggestions: service().suggest(req.query.q, req.principal ?? null, req.query.limit ?? 8) };
    },
  );
}
