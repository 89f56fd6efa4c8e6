/**
 * Open exchange: Dublin Core of a published record (JSON-LD-style JSON or oai_dc XML), and CSV /
 * JSON export of any search result (same parameters as GET /api/search; the viewer's visibility
 * applies, so the public exports only published, public records).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Principal } from '../auth/principal.ts';
import { readProduct, recordForViewer, type ProductRecord } from '../catalogue/product-read.ts';
import { canSee } from '../catalogue/visibility.ts';
import { err } from '../errors.ts';
import { dublinCoreJson, dublinCoreXml } from '../ops/dublin-core.ts';
import type { SearchParams, SearchResponse } from '../search/index.ts';
import { ErrorSchema, IdParams } from './schemas.ts';
import { checkSearchFilters, searchQueryGuard } from './search.ts';

/** Most rows one export returns (the search service ranks at most this many). */
export const EXPORT_MAX_ROWS = 2000;
const PAGE = 100;

interface SearchLike {
  search(params: SearchParams, viewer: Principal | null): SearchResponse;
}

/** The search service, whichever name it is decorated under. */
function searchOf(app: FastifyInstance): SearchLike | null {
  for (const name of ['searchIndex', 'search']) {
    const s = (app as unknown as Record<string, unknown>)[name] as SearchLike | undefined;
    if (s && typeof s === 'object' && typeof s.search === 'function') return s;
  }
  return null;
}

const ExportQuery = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('json')], { default: 'csv' })),
  q: Type.Optional(Type.String({ maxLength: 4096 })),
  type: Type.Optional(Type.String({ maxLength: 500 })),
  agency: Type.Optional(Type.String({ maxLength: 500 })),
  year: Type.Optional(Type.Integer({ minimum: 0, maximum: 9999 })),
  yearFrom: Type.Optional(Type.Integer({ minimum: 0, maximum: 9999 })),
  yearTo: Type.Optional(Type.Integer({ minimum: 0, maximum: 9999 })),
  language: Type.Optional(Type.String({ maxLength: 200 })),
  state: Type.Optional(Type.String({ maxLength: 200 })),
  sort: Type.Optional(Type.Union([Type.Literal('relevance'), Type.Literal('date'), Type.Literal('title')])),
});
type ExportQueryT = Static<typeof ExportQuery>;

export const CSV_COLUMNS = [
  'id', 'title', 'altTitle', 'type', 'agencyCode', 'agency', 'coIssuers', 'year', 'releaseDate', 'publisher', 'isbn', 'identifier',
  'languages', 'subjects', 'planTask', 'access', 'state', 'files', 'sha256', 'url', 'score',
] as const;

/** One CSV cell: quoted when needed; a leading = + - @ is neutralised so spreadsheets do not run it as a formula. */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvRow(rec: ProductRecord, score: number, site: string): string {
  const row: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    id: rec.id,
    title: rec.title,
    altTitle: rec.altTitle,
    type: rec.type,
    agencyCode: rec.agency?.code,
    agency: rec.agency?.name,
    coIssuers: rec.coIssuers.map((a) => a.code).join('; '),
    year: rec.year,
    releaseDate: rec.releaseDate,
    publisher: rec.publisher,
    isbn: rec.isbn,
    identifier: rec.identifier,
    languages: rec.languages.join('; '),
    subjects: rec.subjects.join('; '),
    planTask: rec.planTask?.code,
    access: rec.access,
    state: rec.state,
    files: rec.files.map((f) => f.originalName).join('; '),
    sha256: rec.files.map((f) => f.sha256).join('; '),
    url: `${site}/api/products/${rec.id}`,
    score: Math.round(score * 1000) / 1000,
  };
  return CSV_COLUMNS.map((c) => csvCell(row[c])).join(',');
}

export default async function exchangeRoutes(app: FastifyInstance) {
  const { sqlite } = app.db;

  app.get(
    '/api/products/:id/dublin-core',
    {
      schema: {
        tags: ['exchange'],
        summary: 'Dublin Core of a record (format=json: JSON-LD style; format=xml: oai_dc)',
        params: IdParams,
        querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('xml')], { default: 'json' })) }),
        response: {
          200: Type.Union([Type.Object({}, { additionalProperties: true }), Type.String()]),
          404: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const id = (req.params as { id: number }).id;
      const rec = readProduct(sqlite, id);
      if (!rec || !canSee(req.principal ?? null, { state: rec.state, access: rec.access, agencyId: rec.agency?.id ?? null })) throw err.notFound('Product', 'PRODUCT_NOT_FOUND');
      const site = `${req.protocol}://${req.host}`;
      if ((req.query as { format?: string }).format === 'xml') {
        reply.type('application/xml; charset=utf-8');
        return dublinCoreXml(rec, site);
      }
      return dublinCoreJson(rec, site);
    },
  );

  app.get(
    '/api/search/export',
    {
      schema: {
        tags: ['exchange'],
        summary: `Export a search result as CSV (UTF-8 with BOM) or JSON: full records, up to ${EXPORT_MAX_ROWS} rows; same filters as /api/search`,
        querystring: ExportQuery,
        response: { 200: Type.Union([Type.String(), Type.Object({}, { additionalProperties: true })]), 400: ErrorSchema, 503: ErrorSchema },
      },
      // The same checks as /api/search (unknown keys, whole numbers, closed lists, a year range backwards).
      preValidation: searchQueryGuard(Object.keys(ExportQuery.properties), ['year', 'yearFrom', 'yearTo']),
    },
    async (req: FastifyRequest<{ Querystring: ExportQueryT }>, reply) => {
      checkSearchFilters(req.query);
      const search = searchOf(app);
      if (!search) throw err.unavailable('SEARCH_UNAVAILABLE', 'The search index is not available');
      const { format = 'csv', ...params } = req.query;
      const viewer = req.principal ?? null;
      const hits: Array<{ id: number; score: number }> = [];
      let total = 0;
      for (let page = 1; hits.length < EXPORT_MAX_ROWS; page++) {
        const res = search.search({ ...params, page, limit: PAGE }, viewer);
        total = res.total;
        for (const h of res.hits) hits.push({ id: h.id, score: h.score });
        if (res.hits.length < PAGE || hits.length >= total) break;
      }
      const records: Array<{ rec: ProductRecord; score: number }> = [];
      for (const h of hits.slice(0, EXPORT_MAX_ROWS)) {
        const rec = readProduct(sqlite, h.id);
        if (rec && canSee(viewer, { state: rec.state, access: rec.access, agencyId: rec.agency?.id ?? null })) records.push({ rec: recordForViewer(sqlite, viewer, rec), score: h.score });
      }
      const site = `${req.protocol}://${req.host}`;
      const stamp = new Date().toISOString().slice(0, 10).replace(/-/g, '');
      reply.header('x-total-count', String(total)).header('x-exported-count', String(records.length));
      reply.header('cache-control', 'private, no-store');
      if (format === 'json') {
        reply.header('content-disposition', `attachment; filename="kho-tu-lieu-${stamp}.json"`);
        return { total, exported: records.length, truncated: total > records.length, query: params, records: records.map((r) => ({ ...r.rec, score: r.score })) };
      }
      reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="kho-tu-lieu-${stamp}.csv"`);
      const lines = [CSV_COLUMNS.join(','), ...records.map((r) => csvRow(r.rec, r.score, site))];
      return `\uFEFF${lines.join('\r\n')}\r\n`;
    },
  );
}
