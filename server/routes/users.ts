/**
 * Accounts and API tokens (admin only). A token's secret appears once, in the create response;
 * the database keeps its SHA-256.
 * - GET/POST /api/users, GET/PATCH /api/users/:id
 * - GET /api/tokens[?user=], POST /api/tokens, DELETE /api/tokens/:id (revoke)
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { createToken, createUser, getUser, listTokens, listUsers, MAX_TOKEN_DAYS, revokeToken, updateUser, type CreateUserInput, type UpdateUserInput } from '../catalogue/accounts.ts';
import { writeAudit } from '../catalogue/audit.ts';
import { ROLES } from '../db/schema.ts';
import { err } from '../errors.ts';
import { requireRole } from '../plugins/auth.ts';
import { ErrorSchema, IdParams } from './schemas.ts';

const User = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  displayName: Type.String(),
  role: Type.String(),
  agency: Type.Union([Type.Object({ id: Type.Integer(), code: Type.String(), name: Type.String() }), Type.Null()]),
  canSeeInternal: Type.Boolean(),
  active: Type.Boolean(),
  hasPassword: Type.Boolean(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const Token = Type.Object({
  id: Type.Integer(),
  userId: Type.Integer(),
  username: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  createdAt: Type.String(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
});
const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const AgencyRef = Type.Union([Type.String(), Type.Integer(), Type.Null()]);
const Errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema };

export default async function userRoutes(app: FastifyInstance) {
  const { sqlite } = app.db;

  app.get('/api/users', { schema: { tags: ['admin'], summary: 'All accounts', response: { 200: Type.Array(User), ...Errors } } }, async (req) => {
    requireRole(req, 'admin');
    return listUsers(sqlite);
  });

  app.post(
    '/api/users',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create an account; without a password a random one is generated and returned once',
        body: Type.Object({
          username: Type.String({ minLength: 2, maxLength: 64 }),
          displayName: Type.Optional(Type.String({ maxLength: 200 })),
          role: Role,
          agency: Type.Optional(AgencyRef),
          password: Type.Optional(Type.String({ maxLength: 200 })),
          canSeeInternal: Type.Optional(Type.Boolean()),
          _csrf: Type.Optional(Type.String()),
        }, { additionalProperties: false }),
        response: { 201: Type.Object({ user: User, generatedPassword: Type.Union([Type.String(), Type.Null()]) }), ...Errors },
      },
    },
    async (req: FastifyRequest<{ Body: CreateUserInput }>, reply) => {
      const p = requireRole(req, 'admin');
      const r = await createUser(sqlite, req.body);
      writeAudit(sqlite, p, { action: 'create', entity: 'user', entityId: r.user.id, changes: { username: [null, r.user.username], role: [null, r.user.role] } });
      return reply.code(201).send(r);
    },
  );

  app.get('/api/users/:id', { schema: { tags: ['admin'], summary: 'One account', params: IdParams, response: { 200: User, ...Errors } } }, async (req: FastifyRequest<{ Params: { id: number } }>) => {
    requireRole(req, 'admin');
    const u = getUser(sqlite, req.params.id);
    if (!u) throw err.notFound('User', 'USER_NOT_FOUND');
    return u;
  });

  app.patch(
    '/api/users/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'Change an account (role, agency, internal access, active, password); ends its web sessions when access changes',
        params: IdParams,
        body: Type.Object({
          displayName: Type.Optional(Type.String({ maxLength: 200 })),
          role: Type.Optional(Role),
          agency: Type.Optional(AgencyRef),
          canSeeInternal: Type.Optional(Type.Boolean()),
          active: Type.Optional(Type.Boolean()),
          password: Type.Optional(Type.String({ maxLength: 200 })),
          _csrf: Type.Optional(Type.String()),
        }, { additionalProperties: false }),
        response: { 200: User, ...Errors },
      },
    },
    async (req: FastifyRequest<{ Params: { id: number }; Body: UpdateUserInput }>) => {
      const p = requireRole(req, 'admin');
      if (Object.keys(req.body ?? {}).every((k) => k === '_csrf')) throw err.badRequest('EMPTY_PATCH', 'Nothing to change');
      const before = getUser(sqlite, req.params.id);
      const u = await updateUser(sqlite, req.params.id, req.body);
      const changes: Record<string, [unknown, unknown]> = {};
      for (const k of ['displayName', 'role', 'canSeeInternal', 'active'] as const) if (before && before[k] !== u[k]) changes[k] = [before[k], u[k]];
      if (before && before.agency?.id !== u.agency?.id) changes.agency = [before.agency?.code ?? null, u.agency?.code ?? null];
      if (req.body.password !== undefined) changes.password = ['***', '***'];
      writeAudit(sqlite, p, { action: 'update', entity: 'user', entityId: u.id, changes });
      return u;
    },
  );

  app.get(
    '/api/tokens',
    {
      schema: {
        tags: ['admin'],
        summary: 'API tokens (never their secrets)',
        querystring: Type.Object({ user: Type.Optional(Type.String()) }),
        response: { 200: Type.Array(Token), ...Errors },
      },
    },
    async (req: FastifyRequest<{ Querystring: { user?: string } }>) => {
      requireRole(req, 'admin');
      if (req.query.user === undefined) return listTokens(sqlite);
      const u = getUser(sqlite, req.query.user);
      if (!u) throw err.validation('user', `unknown user "${req.query.user}"`, 'UNKNOWN_USER');
      return listTokens(sqlite, u.id);
    },
  );

  app.post(
    '/api/tokens',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create an API token for a user; the secret is in this response only',
        body: Type.Object({
          user: Type.Union([Type.String(), Type.Integer()]),
          name: Type.String({ minLength: 1, maxLength: 100 }),
          days: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 3650 }), Type.Null()], { description: 'lifetime in days (default 90); null = no expiry' })),
          _csrf: Type.Optional(Type.String()),
        }, { additionalProperties: false }),
        response: { 201: Type.Object({ token: Token, secret: Type.String() }), ...Errors },
      },
      // The schema validator coerces 0, false and "" to null where null is allowed: `days: 0` would
      // become a token that never expires. Only a JSON null (or no days at all) means no expiry.
      preValidation: async (req: FastifyRequest) => {
        const days = (req.body as { days?: unknown } | undefined)?.days;
        // (A form field sends its number as text: "30" is fine.)
        const n = typeof days === 'string' && /^\d{1,5}$/.test(days) ? Number(days) : days;
        if (days !== undefined && days !== null && !(typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_TOKEN_DAYS)) {
          throw err.validation('days', `days must be a whole number from 1 to ${MAX_TOKEN_DAYS}, or null for a token that never expires`);
        }
      },
    },
    async (req: FastifyRequest<{ Body: { user: string | number; name: string; days?: number | null } }>, reply) => {
      const p = requireRole(req, 'admin');
      const r = createToken(sqlite, req.body);
      writeAudit(sqlite, p, { action: 'create', entity: 'api_token', entityId: r.token.id, changes: { user: [null, r.token.username], name: [null, r.token.name], expiresAt: [null, r.token.expiresAt] } });
      return reply.code(201).send(r);
    },
  );

  app.delete(
    '/api/tokens/:id',
    { schema: { tags: ['admin'], summary: 'Revoke an API token', params: IdParams, response: { 200: Token, ...Errors } } },
    async (req: FastifyRequest<{ Params: { id: number } }>) => {
      const p = requireRole(req, 'admin');
      const t = revokeToken(sqlite, req.params.id);
      writeAudit(sqlite, p, { action: 'revoke', entity: 'api_token', entityId: t.id, changes: { revokedAt: [null, t.revokedAt] } });
      return t;
    },
  );
}
