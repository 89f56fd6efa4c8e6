/**
 * Prometheus metrics on a registry owned by this app instance (never prom-client's global one, so
 * several apps — tests — do not share counters). Request count and latency by route pattern, upload
 * count and bytes, search latency; gauges read at scrape time: jobs by state, runner workers, stored
 * blobs and bytes, products by state, the last fixity run.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface AppMetrics {
  registry: Registry;
  uploads: Counter<'result'>;
  uploadBytes: Counter;
  searchSeconds: Histogram<'route'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: AppMetrics;
  }
  interface FastifyRequest {
    metricsStart?: bigint;
  }
}

const routeOf = (req: FastifyRequest): string => req.routeOptions?.url ?? 'unmatched';

export default fp(
  async function metricsPlugin(app: FastifyInstance) {
    const registry = new Registry();
    registry.setDefaultLabels({ app: 'kho-tu-lieu' });
    collectDefaultMetrics({ register: registry, prefix: 'kho_' });

    const requests = new Counter({ name: 'kho_http_requests_total', help: 'HTTP requests by method, route pattern and status', labelNames: ['method', 'route', 'status_code'], registers: [registry] });
    const latency = new Histogram({
      name: 'kho_http_request_duration_seconds',
      help: 'HTTP request latency by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers: [registry],
    });
    const uploads = new Counter({ name: 'kho_uploads_total', help: 'Product uploads (POST /api/products) by result', labelNames: ['result'], registers: [registry] });
    const uploadBytes = new Counter({ name: 'kho_upload_bytes_total', help: 'Bytes received in successful uploads (request bodies)', registers: [registry] });
    const searchSeconds = new Histogram({
      name: 'kho_search_duration_seconds',
      help: 'Search request latency (GET /api/search and exports)',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });

    const { sqlite } = app.db;
    const blobTotals = sqlite.prepare('SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM blobs');
    const productStates = sqlite.prepare('SELECT state, count(*) AS n FROM products GROUP BY state');
    const lastFixity = sqlite.prepare('SELECT finished_at, missing, corrupt, orphans FROM fixity_runs WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1');

    new Gauge({
      name: 'kho_jobs',
      help: 'Derivative jobs by state (queued, running, done, failed)',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        for (const [state, n] of Object.entries(app.jobQueue.counts())) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'kho_job_workers',
      help: 'Extraction worker processes: total and busy',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        const s = app.jobRunner.stats();
        this.set({ kind: 'total' }, s.workers);
        this.set({ kind: 'busy' }, s.busy);
      },
    });
    new Gauge({
      name: 'kho_jobs_settled',
      help: 'Jobs settled by this process since start, by outcome (completed, failed, killed)',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        const s = app.jobRunner.stats();
        this.set({ outcome: 'completed' }, s.completed);
        this.set({ outcome: 'failed' }, s.failed);
        this.set({ outcome: 'killed' }, s.killed);
      },
    });
    new Gauge({
      name: 'kho_blobs_stored',
      help: 'Distinct contents (blobs) in the store',
      registers: [registry],
      collect() {
        this.set((blobTotals.get() as { n: number }).n);
      },
    });
    new Gauge({
      name: 'kho_bytes_stored',
      help: 'Bytes of originals in the blob store (each content counted once)',
      registers: [registry],
      collect() {
        this.set((blobTotals.get() as { bytes: number }).bytes);
      },
    });
    new Gauge({
      name: 'kho_products',
      help: 'Product records by workflow state',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of productStates.all() as Array<{ state: string; n: number }>) this.set({ state: r.state }, r.n);
      },
    });
    new Gauge({
      name: 'kho_fixity_last_problems',
      help: 'Problems found by the last finished fixity run, by kind (missing, corrupt, orphans)',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        const r = lastFixity.get() as { missing: number; corrupt: number; orphans: number } | undefined;
        if (!r) return;
        this.set({ kind: 'missing' }, r.missing);
        this.set({ kind: 'corrupt' }, r.corrupt);
        this.set({ kind: 'orphans' }, r.orphans);
      },
    });
    new Gauge({
      name: 'kho_fixity_last_run_timestamp_seconds',
      help: 'When the last fixity run finished (Unix time)',
      registers: [registry],
      collect() {
        const r = lastFixity.get() as { finished_at: string } | undefined;
        if (r) this.set(Date.parse(r.finished_at) / 1000);
      },
    });

    app.decorate('metrics', { registry, uploads, uploadBytes, searchSeconds });

    app.addHook('onRequest', async (req) => {
      req.metricsStart = process.hrtime.bigint();
    });
    app.addHook('onResponse', async (req, reply) => {
      const route = routeOf(req);
      if (route === '/metrics') return;
      const seconds = req.metricsStart ? Number(process.hrtime.bigint() - req.metricsStart) / 1e9 : 0;
      const status = reply.statusCode;
      requests.inc({ method: req.method, route, status_code: String(status) });
      latency.observe({ method: req.method, route }, seconds);
      if (req.method === 'POST' && route === '/api/products') {
        uploads.inc({ result: status === 201 ? 'created' : status >= 500 ? 'error' : 'refused' });
        if (status === 201) uploadBytes.inc(Number(req.headers['content-length']) || 0);
      }
      if (req.method === 'GET' && route.startsWith('/api/search')) searchSeconds.observe({ route }, seconds);
    });
  },
  { name: 'metrics', dependencies: ['services'] },
);
