/**
 * Authentication: sets `request.principal` from `Authorization: Bearer <token>` (the env
 * ADMIN_TOKEN or an API token) or from the session cookie. A bad bearer token is a 401 even on
 * public routes, so a script with an expired token learns it at once. Authorisation helpers
 * (`requireRole`) live here too.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Principal } from '../auth/principal.ts';
import { hashSecret, safeEqual } from '../auth/tokens.ts';
import type { Role } from '../db/schema.ts';
import { err } from '../errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export const SESSION_COOKIE = 'kho_session';

interface UserRow {
  id: number;
  username: string;
  role: Role;
  agency_id: number | null;
  can_see_internal: number;
  active: number;
}

/** Throws 401 when anonymous, 403 when the role is not allowed. Returns the principal. */
export function requireRole(req: FastifyRequest, ...roles: Role[]): Principal {
  const p = req.principal;
  if (p === null) throw err.unauthorized();
  if (roles.length > 0 && !roles.includes(p.role)) throw err.forbidden(`This action needs one of the roles: ${roles.join(', ')}`);
  return p;
}

export default fp(
  async function authPlugin(app: FastifyInstance) {
    const { sqlite } = app.db;
    const tokenStmt = sqlite.prepare(
      `SELECT t.id AS token_id, t.expires_at, t.revoked_at, t.last_used_at, u.id, u.username, u.role, u.agency_id, u.can_see_internal, u.active
       FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`,
    );
    const touchToken = sqlite.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?');
    const sessionStmt = sqlite.prepare(
      `SELECT s.csrf_token, s.expires_at, u.id, u.username, u.role, u.agency_id, u.can_see_internal, u.active
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`,
    );

    const fromUser = (u: UserRow, via: Principal['via'], csrfToken?: string): Principal => ({
      userId: u.id,
      username: u.username,
      role: u.role,
      agencyId: u.agency_id,
      canSeeInternal: u.role === 'admin' || u.role === 'archivist' || u.can_see_internal === 1,
      via,
      ...(csrfToken ? { csrfToken } : {}),
    });

    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (req) => {
      req.principal = null;
      const auth = req.headers.authorization;
      if (auth !== undefined) {
        const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
        if (!m) throw err.invalidToken('The Authorization header must be "Bearer <token>"');
        const token = m[1];
        if (app.config.adminToken !== null && safeEqual(token, app.config.adminToken)) {
          req.principal = { userId: null, username: 'admin-token', role: 'admin', agencyId: null, canSeeInternal: true, via: 'admin-token' };
          return;
        }
        const row = tokenStmt.get(hashSecret(token)) as
          | (UserRow & { token_id: number; expires_at: string | null; revoked_at: string | null; last_used_at: string | null })
          | undefined;
        const now = new Date().toISOString();
        if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now) || row.active !== 1) {
          throw err.invalidToken();
        }
        // "Last used" to the minute: a busy script's reads do not each become a database write.
        if (row.last_used_at === null || row.last_used_at.slice(0, 16) !== now.slice(0, 16)) touchToken.run(now, row.token_id);
        req.principal = fromUser(row, 'api-token');
        return;
      }
      const sid = req.cookies?.[SESSION_COOKIE];
      if (sid) {
        const row = sessionStmt.get(hashSecret(sid)) as (UserRow & { csrf_token: string; expires_at: string }) | undefined;
        if (row && row.expires_at > new Date().toISOString() && row.active === 1) req.principal = fromUser(row, 'session', row.csrf_token);
      }
    });
  },
  { name: 'auth', dependencies: ['services', '@fastify/cookie'] },
);
