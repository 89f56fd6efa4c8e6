/**
 * GET /metrics — Prometheus text format. Served to requests from the machine itself (loopback:
 * a local Prometheus or node exporter scraping 127.0.0.1) and to admins (bearer token); anyone
 * else gets 403, since the numbers describe the store's contents and load.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { err } from '../errors.ts';
import { ErrorSchema } from './schemas.ts';

const isLoopback = (ip: string) => ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1' || ip.startsWith('127.');

export function mayScrape(req: FastifyRequest): boolean {
  return req.principal?.role === 'admin' || isLoopback(req.ip);
}

export default async function metricsRoutes(app: FastifyInstance) {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['ops'],
        summary: 'Prometheus metrics (from localhost, or with an admin token)',
        response: { 200: Type.String(), 403: ErrorSchema },
      },
      logLevel: 'warn',
    },
    async (req, reply) => {
      if (!mayScrape(req)) throw err.forbidden('Metrics are served to localhost and to admins only', 'METRICS_FORBIDDEN');
      const body = await app.metrics.registry.metrics();
      reply.type(app.metrics.registry.contentType);
      return body;
    },
  );
}
