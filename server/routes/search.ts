/**
 * Search routes: GET /api/search (ranked hits, snippets, facets) and GET /api/suggest (as-you-type).
 * Thin: validation here, everything else in the search service (`app.searchIndex`). The viewer is
 * `req.principal`, so the catalogue's visibility rule applies to hits, totals, facets and suggestions.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { SearchService } from '../search/index.ts';
import { err } from '../errors.ts';
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
    },
    async (req: FastifyRequest<{ Querystring: Static<typeof SearchQuery> }>, reply) => {
      reply.header('cache-control', 'private, no-cache');
      const { yearFrom, yearTo } = req.query;
      // A range backwards would silently match nothing.
      if (yearFrom !== undefined && yearTo !== undefined && yearFrom > yearTo) {
        throw err.validation('yearTo', `yearFrom (${yearFrom}) is after yearTo (${yearTo})`, 'YEAR_RANGE_INVERTED');
      }
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
    },
    async (req: FastifyRequest<{ Querystring: Static<typeof SuggestQuery> }>, reply) => {
      reply.header('cache-control', 'private, no-cache');
      return { suggestions: service().suggest(req.query.q, req.principal ?? null, req.query.limit ?? 8) };
    },
  );
}
