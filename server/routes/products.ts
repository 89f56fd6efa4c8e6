/**
 * Product records: read, list (queues), edit with optimistic concurrency, workflow transitions
 * (one and bulk), history (audit log) and admin deletion. Logic lives in server/catalogue/*.
 *
 * - GET    /api/products                     anyone; what the caller may see (visibility rule), paged
 * - GET    /api/products/:id                 anyone who may see it; ETag "v<version>"
 * - PATCH  /api/products/:id                 archivist, admin; owning agency while submitted/returned; If-Match required
 * - POST   /api/products/:id/transitions     {action, reason?}; staff, or owning agency for resubmit/withdraw
 * - POST   /api/products/bulk-transitions    {ids, action, reason?}; archivist, admin; per-id results
 * - GET    /api/products/:id/history         archivist, admin, owning agency
 * - DELETE /api/products/:id                 admin
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { readHistory } from '../catalogue/audit.ts';
import { etagOf } from '../catalogue/concurrency.ts';
import { readProduct, recordForViewer } from '../catalogue/product-read.ts';
import { deleteProduct, listProducts, SORT_KEYS, updateProduct, type ListQuery } from '../catalogue/product-service.ts';
import { canSee } from '../catalogue/visibility.ts';
import { ACTIONS, applyTransition, assertCanAct, loadVisible, type Action } from '../catalogue/workflow.ts';
import { PRODUCT_STATES, PRODUCT_TYPES } from '../db/schema.ts';
import { AppError, err } from '../errors.ts';
import { requireRole } from '../plugins/auth.ts';
import { ErrorSchema, IdParams } from './schemas.ts';

const Record_ = Type.Object({}, { additionalProperties: true, description: 'A product record (see ProductRecord in server/catalogue/product-read.ts)' });
const Ref = Type.Object({ id: Type.Integer(), code: Type.String(), name: Type.String() });
const Summary = Type.Object({
  id: Type.Integer(),
  title: Type.String(),
  type: Type.String(),
  state: Type.String(),
  access: Type.String(),
  year: Type.Union([Type.Integer(), Type.Null()]),
  agency: Type.Union([Ref, Type.Null()]),
  planTask: Type.Union([Type.Object({ id: Type.Integer(), code: Type.String() }), Type.Null()]),
  returnReason: Type.Union([Type.String(), Type.Null()]),
  duplicateFlagCount: Type.Integer(),
  version: Type.Integer(),
  submittedAt: Type.String(),
  updatedAt: Type.String(),
  publishedAt: Type.Union([Type.String(), Type.Null()]),
});
const ActionSchema = Type.Union(ACTIONS.map((a) => Type.Literal(a)));
const TransitionBody = Type.Object({
  action: ActionSchema,
  reason: Type.Optional(Type.Union([Type.String({ maxLength: 5000 }), Type.Null()])),
  _csrf: Type.Optional(Type.String()),
}, { additionalProperties: false });
const TransitionResult = Type.Object({ id: Type.Integer(), from: Type.String(), to: Type.String(), version: Type.Integer() });
const HistoryEntry = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  actor: Type.String(),
  actorUserId: Type.Union([Type.Integer(), Type.Null()]),
  action: Type.String(),
  changes: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  note: Type.Union([Type.String(), Type.Null()]),
});
const ListQuerySchema = Type.Object({
  state: Type.Optional(Type.String({ description: `comma-separated: ${PRODUCT_STATES.join(', ')}` })),
  agency: Type.Optional(Type.String({ description: 'agency code or id' })),
  type: Type.Optional(Type.Union(PRODUCT_TYPES.map((t) => Type.Literal(t)))),
  year: Type.Optional(Type.Integer({ minimum: 1800, maximum: 2200 })),
  planTask: Type.Optional(Type.String({ description: 'plan task code or id' })),
  access: Type.Optional(Type.Union([Type.Literal('public'), Type.Literal('internal')])),
  flagged: Type.Optional(Type.Boolean({ description: 'only records with (true) / without (false) duplicate flags' })),
  q: Type.Optional(Type.String({ maxLength: 200, description: 'title contains (use /api/search for full-text search)' })),
  sort: Type.Optional(Type.Union(SORT_KEYS.map((k) => Type.Literal(k)))),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
});
const PatchBody = Type.Object(
  {},
  {
    additionalProperties: true,
    description:
      'Fields to change (null clears): title, altTitle, type, description, agency, coIssuers, releaseDate, year, publisher, identifier, isbn, printRun, languages, subjects, planTask, copyReceivedOn, copyCondition, copyShelf, access',
  },
);
const Errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema };

export default async function productRoutes(app: FastifyInstance) {
  const { sqlite } = app.db;

  app.get(
    '/api/products',
    {
      schema: {
        tags: ['products'],
        summary: 'A page of product records visible to the caller (archivist queues: ?state=submitted,in_review)',
        querystring: ListQuerySchema,
        response: { 200: Type.Object({ items: Type.Array(Summary), total: Type.Integer(), page: Type.Integer(), pageSize: Type.Integer() }), ...Errors },
      },
    },
    async (req: FastifyRequest<{ Querystring: ListQuery }>) => listProducts(sqlite, req.principal, req.query),
  );

  app.get(
    '/api/products/:id',
    {
      schema: {
        tags: ['products'],
        summary: 'A product record with its files and their processing state',
        params: IdParams,
        response: { 200: Record_, 404: ErrorSchema },
      },
    },
    async (req: FastifyRequest<{ Params: { id: number } }>, reply) => {
      const rec = readProduct(sqlite, req.params.id);
      if (!rec || !canSee(req.principal, { state: rec.state, access: rec.access, agencyId: rec.agency?.id ?? null })) {
        throw err.notFound('Product', 'PRODUCT_NOT_FOUND');
      }
      reply.header('etag', etagOf(rec.version)).header('cache-control', 'private, no-cache');
      return recordForViewer(sqlite, req.principal, rec);
    },
  );

  app.patch(
    '/api/products/:id',
    {
      schema: {
        tags: ['products'],
        summary: 'Edit catalogue fields (If-Match: the ETag you read; 412 when stale, 428 when missing)',
        params: IdParams,
        headers: Type.Object({ 'if-match': Type.Optional(Type.String()) }),
        body: PatchBody,
        response: { 200: Record_, ...Errors, 409: ErrorSchema, 412: ErrorSchema, 428: ErrorSchema },
      },
    },
    async (req: FastifyRequest<{ Params: { id: number } }>, reply) => {
      const p = requireRole(req, 'admin', 'archivist', 'agency');
      const result = updateProduct(sqlite, p, req.params.id, req.body, req.headers['if-match']);
      if (result.changed.length > 0) app.events.emit('product-changed', result.id);
      const rec = readProduct(sqlite, result.id)!;
      reply.header('etag', etagOf(rec.version));
      return recordForViewer(sqlite, p, rec);
    },
  );

  app.post(
    '/api/products/:id/transitions',
    {
      schema: {
        tags: ['products'],
        summary: 'Move a record through the workflow: start_review, accept, publish, return (reason), resubmit, withdraw',
        params: IdParams,
        headers: Type.Object({ 'if-match': Type.Optional(Type.String()) }),
        body: TransitionBody,
        response: { 200: Record_, ...Errors, 409: ErrorSchema, 412: ErrorSchema },
      },
    },
    async (req: FastifyRequest<{ Params: { id: number }; Body: { action: Action; reason?: string | null } }>, reply) => {
      const p = requireRole(req, 'admin', 'archivist', 'agency');
      const r = applyTransition(sqlite, p, req.params.id, { action: req.body.action, reason: req.body.reason, ifMatch: req.headers['if-match'] });
      app.events.emit('product-changed', r.id);
      const rec = readProduct(sqlite, r.id)!;
      reply.header('etag', etagOf(rec.version));
      return recordForViewer(sqlite, p, rec);
    },
  );

  app.post(
    '/api/products/bulk-transitions',
    {
      schema: {
        tags: ['products'],
        summary: 'Apply one action to many records; each id succeeds or fails on its own',
        body: Type.Object({
          ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 500 }),
          action: ActionSchema,
          reason: Type.Optional(Type.Union([Type.String({ maxLength: 5000 }), Type.Null()])),
          _csrf: Type.Optional(Type.String()),
        }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            ok: Type.Integer(),
            failed: Type.Integer(),
            results: Type.Array(Type.Object({
              id: Type.Integer(),
              ok: Type.Boolean(),
              from: Type.Optional(Type.String()),
              to: Type.Optional(Type.String()),
              version: Type.Optional(Type.Integer()),
              statusCode: Type.Optional(Type.Integer()),
              code: Type.Optional(Type.String()),
              message: Type.Optional(Type.String()),
            })),
          }),
          ...Errors,
        },
      },
    },
    async (req: FastifyRequest<{ Body: { ids: number[]; action: Action; reason?: string | null } }>) => {
      const p = requireRole(req, 'admin', 'archivist');
      const results = [...new Set(req.body.ids)].map((id) => {
        try {
          const r = applyTransition(sqlite, p, id, { action: req.body.action, reason: req.body.reason });
          app.events.emit('product-changed', id);
          return { ok: true, ...r };
        } catch (e) {
          if (!(e instanceof AppError)) throw e;
          return { id, ok: false, statusCode: e.statusCode, code: e.code, message: e.message };
        }
      });
      const ok = results.filter((r) => r.ok).length;
      return { ok, failed: results.length - ok, results };
    },
  );

  app.get(
    '/api/products/:id/history',
    {
      schema: {
        tags: ['products'],
        summary: 'The audit log of a record: who changed which fields when (old → new)',
        params: IdParams,
        response: { 200: Type.Object({ productId: Type.Integer(), entries: Type.Array(HistoryEntry) }), ...Errors },
      },
    },
    async (req: FastifyRequest<{ Params: { id: number } }>) => {
      const p = requireRole(req, 'admin', 'archivist', 'agency');
      const row = loadVisible(sqlite, p, req.params.id);
      assertCanAct(p, row);
      return { productId: row.id, entries: readHistory(sqlite, 'product', row.id) };
    },
  );

  app.delete(
    '/api/products/:id',
    {
      schema: {
        tags: ['products'],
        summary: 'Delete a record (admin); its blobs stay in the store until fixity sweeps orphans',
        params: IdParams,
        response: { 204: Type.Null(), ...Errors },
      },
    },
    async (req: FastifyRequest<{ Params: { id: number } }>, reply) => {
      const p = requireRole(req, 'admin');
      deleteProduct(sqlite, p, req.params.id);
      app.events.emit('product-deleted', req.params.id);
      return reply.code(204).send();
    },
  );
}
