/**
 * Reading product records: GET /api/products/:id (with files, facts and derivative states).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { readProduct } from '../catalogue/product-read.ts';
import { canSee } from '../catalogue/visibility.ts';
import { err } from '../errors.ts';
import { ErrorSchema, IdParams } from './schemas.ts';

export default async function productRoutes(app: FastifyInstance) {
  const { sqlite } = app.db;

  app.get(
    '/api/products/:id',
    {
      schema: {
        tags: ['products'],
        summary: 'A product record with its files and their processing state',
        params: IdParams,
        response: { 200: Type.Object({}, { additionalProperties: true }), 404: ErrorSchema },
      },
    },
    async (req: FastifyRequest<{ Params: { id: number } }>, reply) => {
      const rec = readProduct(sqlite, req.params.id);
      if (!rec || !canSee(req.principal, { state: rec.state, access: rec.access, agencyId: rec.agency?.id ?? null })) {
        throw err.notFound('Product', 'PRODUCT_NOT_FOUND');
      }
      reply.header('etag', `"v${rec.version}"`).header('cache-control', 'private, no-cache');
      return rec;
    },
  );
}
