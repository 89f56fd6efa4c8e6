/**
 * The pages call the search service in-process (`app.searchIndex`). When that plugin is not
 * registered (a stripped-down app), a plain SQL listing stands in: newest visible records, title
 * substring match, facet counts over the same set.
 */
import type { FastifyInstance } from 'fastify';
import type { Principal } from '../auth/principal.ts';
import { visibilitySql } from '../catalogue/visibility.ts';
import type { SearchParams, SearchResponse, SearchService, Suggestion } from '../search/index.ts';

type Searcher = Pick<SearchService, 'search' | 'suggest'>;

export function searcher(app: FastifyInstance): Searcher {
  return app.hasDecorator('searchIndex') ? app.searchIndex : sqlFallback(app);
}

function sqlFallback(app: FastifyInstance): Searcher {
  const { sqlite } = app.db;
  return {
    search(params: SearchParams, viewer: Principal | null): SearchResponse {
      const started = Date.now();
      const vis = visibilitySql(viewer, 'p');
      const where: string[] = [vis.where];
      const args: Record<string, unknown> = { ...vis.params };
      if (params.q) {
        where.push('p.title LIKE @q');
        args.q = `%${params.q}%`;
      }
      if (params.state) {
        where.push('p.state = @state');
        args.state = params.state;
      }
      const base = `FROM products p LEFT JOIN agencies a ON a.id = p.agency_id WHERE ${where.join(' AND ')}`;
      const filters: string[] = [];
      if (params.type) filters.push(`p.type IN (${params.type.split(',').map((x, i) => ((args[`t${i}`] = x), `@t${i}`)).join(',')})`);
      if (params.agency) filters.push(`a.code IN (${params.agency.split(',').map((x, i) => ((args[`a${i}`] = x), `@a${i}`)).join(',')})`);
      if (params.year) filters.push('p.year = @year') && (args.year = params.year);
      if (params.language) filters.push('EXISTS (SELECT 1 FROM json_each(p.languages) WHERE value = @lang)') && (args.lang = params.language);
      const full = filters.length ? `${base} AND ${filters.join(' AND ')}` : base;
      const limit = params.limit ?? 20;
      const page = params.page ?? 1;
      const order = params.sort === 'title' ? 'p.title' : 'coalesce(p.published_at, p.created_at) DESC, p.id DESC';
      const total = (sqlite.prepare(`SELECT count(*) AS n ${full}`).get(args) as { n: number }).n;
      const rows = sqlite.prepare(`SELECT p.id, p.title, p.type, p.year, a.id AS aid, a.code, a.name ${full} ORDER BY ${order} LIMIT ${limit} OFFSET ${(page - 1) * limit}`).all(args) as Array<Record<string, unknown>>;
      const count = (expr: string) => Object.fromEntries((sqlite.prepare(`SELECT ${expr} AS k, count(*) AS n ${full} GROUP BY k`).all(args) as Array<{ k: unknown; n: number }>).filter((r) => r.k != null).map((r) => [String(r.k), r.n]));
      return {
        total,
        page,
        limit,
        hits: rows.map((r) => ({
          id: r.id as number,
          title: r.title as string,
          type: r.type as string,
          agency: r.aid == null ? null : { id: r.aid as number, code: r.code as string, name: r.name as string },
          year: (r.year as number) ?? null,
          score: 0,
          thumbnail: null,
          snippets: [],
        })),
        facets: { type: count('p.type'), agency: count('a.code'), year: count('p.year'), language: {} },
        corrections: [],
        mode: 'all',
        tookMs: Date.now() - started,
      };
    },
    suggest(): Suggestion[] {
      return [];
    },
  };
}
