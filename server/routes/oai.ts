/**
 * /oai — the OAI-PMH 2.0 endpoint (GET with query arguments, or POST with a form body), so national
 * libraries and aggregators can harvest the published, public catalogue as Dublin Core. Protocol
 * logic lives in server/ops/oai-pmh.ts; protocol errors are OAI-PMH XML with HTTP 200, as the
 * protocol requires.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { handleOaiRequest } from '../ops/oai-pmh.ts';

export interface OaiRouteOptions {
  /** Records per ListRecords/ListIdentifiers response (tests use a small one). */
  pageSize?: number;
}

export default async function oaiRoutes(app: FastifyInstance, opts: OaiRouteOptions) {
  const answer = (req: FastifyRequest, args: Record<string, string | string[] | undefined>) => {
    const site = `${req.protocol}://${req.host}`;
    return handleOaiRequest(args, {
      sqlite: app.db.sqlite,
      baseUrl: `${site}/oai`,
      siteUrl: site,
      repositoryName: 'Kho tư liệu — Ban Tuyên giáo Tỉnh uỷ Cao Bằng',
      adminEmail: app.config.oaiAdminEmail,
      pageSize: opts.pageSize,
    });
  };
  const schema = {
    tags: ['exchange'],
    summary: 'OAI-PMH 2.0 (verbs: Identify, ListMetadataFormats, ListSets, ListIdentifiers, ListRecords, GetRecord; metadataPrefix oai_dc)',
    produces: ['text/xml'],
    response: { 200: Type.String({ description: 'OAI-PMH XML response (protocol errors included)' }) },
  };

  app.get('/oai', { schema }, async (req, reply) => {
    reply.type('text/xml; charset=utf-8');
    return answer(req, req.query as Record<string, string | string[]>);
  });
  app.post('/oai', { schema: { ...schema, consumes: ['application/x-www-form-urlencoded'] } }, async (req, reply) => {
    reply.type('text/xml; charset=utf-8');
    const body = (req.body ?? {}) as Record<string, string | string[]>;
    return answer(req, typeof body === 'object' ? body : {});
  });
}
