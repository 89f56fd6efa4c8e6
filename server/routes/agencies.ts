/**
 * Agencies and plan tasks: public reads, admin edits.
 * - GET /api/agencies[?all=true] (inactive ones for staff only), POST /api/agencies, PATCH /api/agencies/:id
 * - GET /api/plan-tasks[?year=&agency=], GET /api/plan-tasks/:id, POST /api/plan-tasks, PATCH /api/plan-tasks/:id
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { isStaff } from '../auth/principal.ts';
import {
  AGENCY_CATEGORIES, createAgency, createPlanTask, getPlanTask, listAgencies, listPlanTasks, updateAgency, updatePlanTask,
  type AgencyInput, type PlanTaskInput,
} from '../catalogue/agencies.ts';
import { PRODUCT_TYPES } from '../db/schema.ts';
import { err } from '../errors.ts';
import { requireRole } from '../plugins/auth.ts';
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
    async (req: FastifyRequest<{ Params: { id: number }; Body: AgencyInput }>) => updateAgency(sqlite, requireRole(req, 'admin'), req.params.id, req.body),
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
    async (req: FastifyRequest<{ Params: { id: number }; Body: PlanTaskInput }>) => updatePlanTask(sqlite, requireRole(req, 'admin'), req.params.id, req.body),
  );
}
