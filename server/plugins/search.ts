/**
 * The search index as a service on the app (`app.searchIndex` — `app.search` is Fastify's SEARCH-method shorthand): made ready at start-up (rebuilt only
 * when the index is missing or stale), and kept in step with the catalogue through app events, so a
 * change is searchable as soon as the API call that made it returns (changed products are indexed in
 * batches, before the next search is answered: see SearchService.indexProduct).
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createSearchService, defaultSearchWorkers, type SearchService } from '../search/index.ts';

declare module 'fastify' {
  interface FastifyInstance {
    searchIndex: SearchService;
  }
}

export default fp(
  async function searchPlugin(app: FastifyInstance) {
    // Query worker threads (SEARCH_WORKERS, default one per CPU beyond the first): see server/search/query-workers.ts.
    const search = createSearchService({ sqlite: app.db.sqlite, logger: app.log, workers: defaultSearchWorkers() });
    const { rebuilt, ms } = search.ensureReady();
    app.log.info({ rebuilt, ms }, rebuilt ? 'search index rebuilt' : 'search index up to date');
    app.decorate('searchIndex', search);

    // A failure to index must not fail the write that already committed; it is logged, and the
    // start-up check rebuilds a stale index.
    const guard = (what: string, fn: () => void) => {
      try {
        fn();
      } catch (e) {
        app.log.error({ err: e }, `search index update failed (${what})`);
      }
    };
    app.events.on('product-changed', (id) => guard('product-changed', () => search.indexProduct(id)));
    app.events.on('product-deleted', (id) => guard('product-deleted', () => search.removeProduct(id)));
    // Sliced, so that a long text does not hold every other request (see indexBlobSoon).
    app.events.on('blob-extracted', (sha) => {
      app.jobRunner.track(search.indexBlobSoon(sha).catch((e) => app.log.error({ err: e }, 'search index update failed (blob-extracted)')));
    });
    app.events.on('agency-changed', (id) => guard('agency-changed', () => search.indexAgency(id)));
    app.addHook('onClose', async () => search.close());
  },
  { name: 'search', dependencies: ['services', 'events'] },
);
