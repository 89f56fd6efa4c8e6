/**
 * Operating the store from the API (admins only): fixity runs — list, one run's full report, start
 * one now — and the schedule (every FIXITY_INTERVAL_HOURS when set). A run in progress is aborted
 * cleanly at shutdown and recorded as such.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { err } from '../errors.ts';
import { beginFixityRun, getFixityRun, listFixityRuns, runFixity, runningFixity, type FixityReport } from '../ops/fixity.ts';
import { requireRole } from '../plugins/auth.ts';
import { ErrorSchema, IdParams } from './schemas.ts';

const RunSummary = Type.Object({
  id: Type.Integer(),
  startedAt: Type.String(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  running: Type.Boolean(),
  checked: Type.Integer(),
  missing: Type.Integer(),
  corrupt: Type.Integer(),
  orphans: Type.Integer(),
  ok: Type.Union([Type.Boolean(), Type.Null()]),
  aborted: Type.Boolean(),
  trigger: Type.Union([Type.String(), Type.Null()]),
});

export default async function adminOpsRoutes(app: FastifyInstance) {
  const { sqlite } = app.db;
  const abort = new AbortController();
  let current: Promise<FixityReport> | null = null;

  /** Start a run in the background unless one is going. Returns its id. */
  const startRun = (trigger: string): number | null => {
    if (current !== null || runningFixity(sqlite) !== null) return null;
    const run = beginFixityRun(sqlite);
    current = runFixity({ sqlite, blobStore: app.blobStore }, { signal: abort.signal, trigger, concurrency: 2 }, run)
      .then((report) => {
        const level = report.ok || report.aborted ? 'info' : 'error';
        app.log[level]({ fixityRun: report.runId, checked: report.checked, missing: report.missing.length, corrupt: report.corrupt.length, orphans: report.orphans.length, strays: report.strays.length, aborted: report.aborted }, 'fixity run finished');
        return report;
      })
      .catch((e: unknown) => {
        app.log.error({ err: e, fixityRun: run.id }, 'fixity run failed');
        sqlite.prepare('UPDATE fixity_runs SET finished_at = ?, report = ? WHERE id = ? AND finished_at IS NULL').run(new Date().toISOString(), JSON.stringify({ error: String(e), aborted: true }), run.id);
        throw e;
      })
      .finally(() => {
        current = null;
      });
    current.catch(() => {});
    return run.id;
  };

  let timer: NodeJS.Timeout | null = null;
  const hours = app.config.fixityIntervalHours;
  if (hours > 0) {
    app.addHook('onReady', async () => {
      timer = setInterval(() => {
        const id = startRun('schedule');
        if (id !== null) app.log.info({ fixityRun: id }, 'scheduled fixity run started');
      }, hours * 3600 * 1000);
      timer.unref();
    });
  }
  app.addHook('onClose', async () => {
    if (timer) clearInterval(timer);
    abort.abort();
    await current?.catch(() => {});
  });

  app.get(
    '/api/admin/fixity',
    {
      schema: {
        tags: ['admin'],
        summary: 'Fixity runs, newest first, and the latest finished one',
        security: [{ bearer: [] }],
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) }),
        response: {
          200: Type.Object({ runs: Type.Array(RunSummary), latest: Type.Union([RunSummary, Type.Null()]), scheduleHours: Type.Integer() }),
          401: ErrorSchema,
          403: ErrorSchema,
        },
      },
    },
    async (req) => {
      requireRole(req, 'admin');
      const runs = listFixityRuns(sqlite, (req.query as { limit?: number }).limit ?? 20);
      return { runs, latest: runs.find((r) => !r.running) ?? null, scheduleHours: hours };
    },
  );

  app.get(
    '/api/admin/fixity/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'One fixity run with its full report (lists of missing, corrupt and orphan blobs)',
        security: [{ bearer: [] }],
        params: IdParams,
        response: {
          200: Type.Object({ ...RunSummary.properties, report: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]) }),
          401: ErrorSchema,
          403: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (req) => {
      requireRole(req, 'admin');
      const run = getFixityRun(sqlite, (req.params as { id: number }).id);
      if (!run) throw err.notFound('Fixity run', 'FIXITY_RUN_NOT_FOUND');
      return run;
    },
  );

  app.post(
    '/api/admin/fixity',
    {
      schema: {
        tags: ['admin'],
        summary: 'Start a fixity run now (in the background); poll GET /api/admin/fixity/:id',
        security: [{ bearer: [] }],
        response: {
          202: Type.Object({ id: Type.Integer(), url: Type.String() }),
          401: ErrorSchema,
          403: ErrorSchema,
          409: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, 'admin');
      const id = startRun(p.username);
      if (id === null) {
        const running = runningFixity(sqlite);
        throw err.conflict('FIXITY_RUNNING', 'A fixity run is already in progress', { runId: running?.id ?? null });
      }
      reply.code(202).header('location', `/api/admin/fixity/${id}`);
      return { id, url: `/api/admin/fixity/${id}` };
    },
  );
}
