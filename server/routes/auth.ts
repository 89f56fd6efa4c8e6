/**
 * Password login for the web UI (JSON; the HTML pages build on these and on server/auth/sessions.ts):
 * - POST /api/auth/login  {username, password} → sets the session cookie, returns {user, csrfToken, expiresAt};
 *   401 INVALID_CREDENTIALS; 429 RATE_LIMITED after repeated failed logins (per IP + username, or per IP); successful logins never count
 * - POST /api/auth/logout → 204, clears the cookie (session requests need the CSRF token)
 * - GET  /api/auth/me     → the caller (any authenticated principal), with the CSRF token for sessions
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { DUMMY_HASH, verifyPassword } from '../auth/passwords.ts';
import { createLoginLimiter, createSession, destroySession, sessionCookieOptions } from '../auth/sessions.ts';
import { getUser, usersNamedAnyCase } from '../catalogue/accounts.ts';
import { AppError, err } from '../errors.ts';
import { requireRole, SESSION_COOKIE } from '../plugins/auth.ts';
import { ErrorSchema } from './schemas.ts';

const Me = Type.Object({
  userId: Type.Union([Type.Integer(), Type.Null()]),
  username: Type.String(),
  displayName: Type.String(),
  role: Type.String(),
  agency: Type.Union([Type.Object({ id: Type.Integer(), code: Type.String(), name: Type.String() }), Type.Null()]),
  canSeeInternal: Type.Boolean(),
  via: Type.String(),
  csrfToken: Type.Optional(Type.String()),
});

export default async function authRoutes(app: FastifyInstance) {
  const { sqlite } = app.db;
  const limiter = createLoginLimiter();

  app.post(
    '/api/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in with a password: sets the HttpOnly session cookie and returns the CSRF token',
        body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 100 }), password: Type.String({ minLength: 1, maxLength: 200 }), _csrf: Type.Optional(Type.String()) }),
        response: {
          200: Type.Object({ user: Me, csrfToken: Type.String(), expiresAt: Type.String() }),
          400: ErrorSchema,
          401: ErrorSchema,
          429: ErrorSchema,
        },
      },
    },
    async (req: FastifyRequest<{ Body: { username: string; password: string } }>, reply) => {
      const username = req.body.username.normalize('NFC').trim();
      const wait = limiter.check(req.ip, username);
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        throw err.tooManyRequests(`Too many failed logins; try again in ${wait} s`);
      }
      type LoginRow = { id: number; password_hash: string | null; active: number; username: string };
      let row = sqlite.prepare('SELECT id, password_hash, active, username FROM users WHERE username = ?').get(username) as LoginRow | undefined;
      if (row === undefined) {
        // The name typed in another case (`Nguyen-Van-An` for `nguyen-van-an`), when it names one account
        // (accounts created before names were unique regardless of case may differ only in case).
        const same = usersNamedAnyCase<LoginRow>(sqlite, username, 'id, password_hash, active, username');
        if (same.length === 1) row = same[0];
      }
      // Verify against a dummy hash for unknown users so response time does not reveal them.
      const ok = await verifyPassword(req.body.password, row?.password_hash ?? DUMMY_HASH);
      if (!row || !ok || row.active !== 1) {
        limiter.fail(req.ip, username);
        throw new AppError(401, 'INVALID_CREDENTIALS', 'Wrong username or password');
      }
      limiter.succeed(req.ip, username);
      const old = req.cookies?.[SESSION_COOKIE];
      if (old) destroySession(sqlite, old);
      const s = createSession(sqlite, row.id);
      reply.setCookie(SESSION_COOKIE, s.cookieValue, sessionCookieOptions(req, app.config.trustProxy, s.expiresAt));
      const u = getUser(sqlite, row.id)!;
      return {
        user: { userId: u.id, username: u.username, displayName: u.displayName, role: u.role, agency: u.agency, canSeeInternal: u.role !== 'agency' && (u.role !== 'researcher' || u.canSeeInternal), via: 'session', csrfToken: s.csrfToken },
        csrfToken: s.csrfToken,
        expiresAt: s.expiresAt,
      };
    },
  );

  app.post(
    '/api/auth/logout',
    { schema: { tags: ['auth'], summary: 'End the web session', response: { 204: Type.Null(), 403: ErrorSchema } } },
    async (req, reply) => {
      const sid = req.cookies?.[SESSION_COOKIE];
      if (sid) destroySession(sqlite, sid);
      reply.clearCookie(SESSION_COOKIE, sessionCookieOptions(req, app.config.trustProxy));
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/auth/me',
    { schema: { tags: ['auth'], summary: 'Who am I (and the CSRF token of my session)', response: { 200: Me, 401: ErrorSchema } } },
    async (req) => {
      const p = requireRole(req);
      const u = p.userId === null ? null : getUser(sqlite, p.userId);
      return {
        userId: p.userId,
        username: p.username,
        displayName: u?.displayName ?? p.username,
        role: p.role,
        agency: u?.agency ?? null,
        canSeeInternal: p.canSeeInternal,
        via: p.via,
        ...(p.csrfToken ? { csrfToken: p.csrfToken } : {}),
      };
    },
  );
}
