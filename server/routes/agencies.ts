/**
 * Agencies and plan tasks: public reads, admin edits.
 * - GET /api/agencies[?all=true] (inactive ones for staff only), POST /api/agencies, PATCH /api/agencies/:id
 * - GET /api/plan-tasks[?year=&agency=], GET /api/plan-tasks/:id, POST /api/plan-tasks, PATCH /api/plan-tasks/:id
 * - GET /api/store-deadlines[?year=], PUT /api/store-deadlines/:code (admin; add or replace)
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { isStaff } from '../auth/principal.ts';
import {
  AGENCY_CATEGORIES, createAgency, createPlanTask, getPlanTask, listAgencies, listPlanTasks, updateAgency, updatePlanTask,
  type AgencyInput, type PlanTaskInput,
} from '../catalogue/agencies.ts';
import { writeAudit } from '../catalogue/audit.ts';
import { getStoreDeadlines, upsertStoreDeadline, type StoreDeadline } from '../catalogue/seed.ts';
import { PRODUCT_TYPES } from '../db/schema.ts';
import { err } from '../errors.ts';
import { requireRole } from '../plugins/auth.ts';
import { isValidDate } from '../catalogue/product-fields.ts';
import { ErrorSchema, IdParams } from './schemas.ts';

const Agency = Type.Object({
  id: Type.Integer(),
  code: Type.String(),
  name: Type.String(),
  shortName: Type.Union([Type.String(), Type.Null()]),
  category: Type.String(),
  active: Type.Boolean(),
});
const PlanTask = Type.Object({
  id: Type.Integer(),
  code: Type.String(),
  planRef: Type.String(),
  year: Type.Integer(),
  agency: Type.Object({ id: Type.Integer(), code: Type.String(), name: Type.String() }),
  title: Type.String(),
  productType: Type.Union([Type.String(), Type.Null()]),
  expectedProduct: Type.Union([Type.String(), Type.Null()]),
  deadline: Type.String(),
  deadlineLabel: Type.Union([Type.String(), Type.Null()]),
  notes: Type.Union([Type.String(), Type.Null()]),
});
const Category = Type.Union(AGENCY_CATEGORIES.map((c) => Type.Literal(c)));
const ProductType = Type.Union([...PRODUCT_TYPES.map((t) => Type.Literal(t)), Type.Null()]);
const Code = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{1,63}$' });
const DateStr = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const OptText = Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]));
const Errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema };
const agencyFields = {
  name: Type.String({ minLength: 1, maxLength: 300 }),
  shortName: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  category: Type.Optional(Category),
  active: Type.Optional(Type.Boolean()),
  _csrf: Type.Optional(Type.String()),
};
const taskFields = {
  planRef: Type.String({ minLength: 1, maxLength: 100 }),
  year: Type.Integer({ minimum: 2000, maximum: 2100 }),
  agency: Type.Union([Type.String(), Type.Integer()]),
  title: Type.String({ minLength: 1, maxLength: 1000 }),
  productType: Type.Optional(ProductType),
  expectedProduct: OptText,
  deadline: DateStr,
  deadlineLabel: OptText,
  notes: OptText,
  _csrf: Type.Optional(Type.String()),
};

export default async function agencyRoutes(app: FastifyInstance) {
  const { sqlite } = app.db;

  app.get(
    '/api/agencies',
    {
      schema: {
        tags: ['catalogue'],
        summary: 'Issuing agencies (active ones; ?all=true adds inactive ones for staff)',
        querystring: Type.Object({ all: Type.Optional(Type.Boolean()) }),
        response: { 200: Type.Array(Agency) },
      },
    },
    async (req: FastifyRequest<{ Querystring: { all?: boolean } }>) => listAgencies(sqlite, req.query.all === true && isStaff(req.principal)),
  );

  app.post(
    '/api/agencies',
    {
      schema: { tags: ['admin'], summary: 'Add an agency', body: Type.Object({ code: Code, ...agencyFields }, { additionalProperties: false }), response: { 201: Agency, ...Errors } },
    },
    async (req: FastifyRequest<{ Body: AgencyInput & { code: string; name: string } }>, reply) => {
      const p = requireRole(req, 'admin');
      return reply.code(201).send(createAgency(sqlite, p, req.body));
    },
  );

  app.patch(
    '/api/agencies/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'Change an agency (deactivate instead of deleting)',
        params: IdParams,
        body: Type.Partial(Type.Object({ code: Code, ...agencyFields }), { additionalProperties: false }),
        response: { 200: Agency, ...Errors },
      },
    },
    async (req: FastifyRequest<{ Params: { id: number }; Body: AgencyInput }>) => {
      const a = updateAgency(sqlite, requireRole(req, 'admin'), req.params.id, req.body);
      // Its name, short name and code are searchable fields of its products, and hits show them.
      app.events.emit('agency-changed', a.id);
      return a;
    },
  );

  app.get(
    '/api/plan-tasks',
    {
      schema: {
        tags: ['catalogue'],
        summary: 'Plan tasks: responsible agency, expected product, deadline',
        querystring: Type.Object({ year: Type.Optional(Type.Integer({ minimum: 2000, maximum: 2100 })), agency: Type.Optional(Type.String()) }),
        response: { 200: Type.Array(PlanTask), 400: ErrorSchema },
      },
    },
    async (req: FastifyRequest<{ Querystring: { year?: number; agency?: string } }>) => listPlanTasks(sqlite, req.query),
  );

  app.get(
    '/api/plan-tasks/:id',
    { schema: { tags: ['catalogue'], summary: 'One plan task', params: IdParams, response: { 200: PlanTask, 404: ErrorSchema } } },
    async (req: FastifyRequest<{ Params: { id: number } }>) => {
      const t = getPlanTask(sqlite, req.params.id);
      if (!t) throw err.notFound('Plan task', 'PLAN_TASK_NOT_FOUND');
      return t;
    },
  );

  app.post(
    '/api/plan-tasks',
    {
      schema: { tags: ['admin'], summary: 'Add a plan task (other years, other plans)', body: Type.Object({ code: Code, ...taskFields }, { additionalProperties: false }), response: { 201: PlanTask, ...Errors } },
    },
    async (req: FastifyRequest<{ Body: Parameters<typeof createPlanTask>[2] }>, reply) => {
      const p = requireRole(req, 'admin');
      return reply.code(201).send(createPlanTask(sqlite, p, req.body));
    },
  );

  app.patch(
    '/api/plan-tasks/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'Change a plan task',
        params: IdParams,
        body: Type.Partial(Type.Object({ code: Code, ...taskFields }), { additionalProperties: false }),
        response: { 200: PlanTask, ...Errors },
      },
    },
    async (req: FastifyRequest<{ Params: { id: number }; Body: PlanTaskInput }>) => {
      const task = updatePlanTask(sqlite, requireRole(req, 'admin'), req.params.id, req.body);
      // A task's title is a searchable field of the products made for it.
      for (const id of sqlite.prepare('SELECT id FROM products WHERE plan_task_id = ?').pluck().all(task.id) as number[]) app.events.emit('product-changed', id);
      return task;
    },
  );

  const Deadline = Type.Object({
    code: Type.String(),
    kind: Type.String(),
    label: Type.String(),
    deadline: Type.Union([Type.String(), Type.Null()]),
    year: Type.Optional(Type.Integer()),
    productYearsUpTo: Type.Optional(Type.Integer()),
    productYearsFrom: Type.Optional(Type.Integer()),
  });

  app.get(
    '/api/store-deadlines',
    {
      schema: {
        tags: ['catalogue'],
        summary: 'Store-wide deadlines of the plans (backlog, after printing, yearly report)',
        querystring: Type.Object({ year: Type.Optional(Type.Integer({ minimum: 2000, maximum: 2100 })) }),
        response: { 200: Type.Array(Deadline) },
      },
    },
    async (req: FastifyRequest<{ Querystring: { year?: number } }>) => getStoreDeadlines(sqlite).filter((d) => req.query.year === undefined || d.year === req.query.year),
  );

  app.put(
    '/api/store-deadlines/:code',
    {
      schema: {
        tags: ['admin'],
        summary: 'Add or replace a store deadline (kind backlog: products released up to productYearsUpTo are due by the deadline)',
        params: Type.Object({ code: Code }),
        body: Type.Object({
          year: Type.Integer({ minimum: 2000, maximum: 2100 }),
          kind: Type.Union([Type.Literal('backlog'), Type.Literal('after_printing'), Type.Literal('annual_report'), Type.Literal('other')]),
          label: Type.String({ minLength: 1, maxLength: 1000 }),
          deadline: Type.Union([DateStr, Type.Null()]),
          productYearsUpTo: Type.Optional(Type.Integer({ minimum: 1800, maximum: 2100 })),
          productYearsFrom: Type.Optional(Type.Integer({ minimum: 1800, maximum: 2100 })),
          _csrf: Type.Optional(Type.String()),
        }, { additionalProperties: false }),
        response: { 200: Type.Array(Deadline), ...Errors },
      },
    },
    async (req: FastifyRequest<{ Params: { code: string }; Body: Omit<StoreDeadline, 'code'> & { year: number; _csrf?: string } }>) => {
      const p = requireRole(req, 'admin');
      const { _csrf, ...body } = req.body;
      void _csrf;
      if (body.deadline !== null && !isValidDate(body.deadline)) throw err.validation('deadline', 'deadline must be a date written YYYY-MM-DD');
      if (body.kind === 'backlog' && (body.deadline === null || body.productYearsUpTo === undefined)) {
        throw err.validation(body.deadline === null ? 'deadline' : 'productYearsUpTo', 'a backlog deadline needs a deadline date and productYearsUpTo');
      }
      const before = getStoreDeadlines(sqlite).find((d) => d.code === req.params.code) ?? null;
      const list = upsertStoreDeadline(sqlite, { ...body, label: body.label.normalize('NFC').trim(), code: req.params.code });
      writeAudit(sqlite, p, { action: before ? 'update' : 'create', entity: 'store_deadline', entityId: req.params.code, changes: { deadline: [before?.deadline ?? null, body.deadline], label: [before?.label ?? null, body.label] } });
      return list;
    },
  );
}
