/**
 * GET /api/reports/compliance?year=2023[&format=csv][&view=tasks|agencies][&agency=code]
 * Archivists and admins see every agency; an agency submitter sees its own agency only.
 * CSV is UTF-8 with a BOM and CRLF (opens in Excel with Vietnamese intact).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { resolveAgencyId } from '../catalogue/accounts.ts';
import { complianceCsv, complianceReport, type CsvView } from '../catalogue/compliance.ts';
import { requireRole } from '../plugins/auth.ts';
import { ErrorSchema } from './schemas.ts';

const Counts = Type.Object({}, { additionalProperties: true });

export default async function reportRoutes(app: FastifyInstance) {
  const { sqlite } = app.db;

  app.get(
    '/api/reports/compliance',
    {
      schema: {
        tags: ['reports'],
        summary: 'Plan compliance: per task and per agency, expected / submitted (on time, late) / accepted / missing',
        querystring: Type.Object({
          year: Type.Integer({ minimum: 2000, maximum: 2100 }),
          format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
          view: Type.Optional(Type.Union([Type.Literal('tasks'), Type.Literal('agencies')], { description: 'CSV content (default tasks)' })),
          agency: Type.Optional(Type.String()),
        }),
        response: {
          200: Type.Object({
            year: Type.Integer(),
            generatedAt: Type.String(),
            storeDeadlines: Type.Array(Counts),
            tasks: Type.Array(Counts),
            agencies: Type.Array(Counts),
            totals: Counts,
          }, { description: 'JSON report; with format=csv a text/csv attachment instead' }),
          400: ErrorSchema,
          401: ErrorSchema,
          403: ErrorSchema,
        },
      },
    },
    async (req: FastifyRequest<{ Querystring: { year: number; format?: 'json' | 'csv'; view?: CsvView; agency?: string } }>, reply) => {
      const p = requireRole(req, 'admin', 'archivist', 'agency');
      const agencyId = p.role === 'agency' ? (p.agencyId ?? -1) : req.query.agency ? resolveAgencyId(sqlite, req.query.agency) : null;
      const report = complianceReport(sqlite, req.query.year, { agencyId, viewer: p });
      if (req.query.format !== 'csv') return report;
      const view = req.query.view ?? 'tasks';
      const ascii = `compliance-${report.year}-${view}.csv`;
      const vi = `báo-cáo-tuân-thủ-${report.year}-${view === 'tasks' ? 'nhiệm-vụ' : 'cơ-quan'}.csv`;
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(vi)}`)
        .header('cache-control', 'private, no-store')
        .serializer((x: unknown) => x as string)
        .send(complianceCsv(report, view));
    },
  );
}
