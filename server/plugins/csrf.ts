/**
 * CSRF protection for cookie sessions: an unsafe request (POST, PUT, PATCH, DELETE) authenticated
 * by the session cookie must echo the session's CSRF token in the `x-csrf-token` header, or in a
 * form field `_csrf` (urlencoded bodies), or — for multipart forms, whose body is read later by
 * the handler — in the `_csrf` query parameter. Bearer-token requests carry no ambient
 * credentials and are exempt; so is POST /api/auth/login (there is no session yet to protect).
 * A mismatch is 403 CSRF_TOKEN_INVALID.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { safeEqual } from '../auth/tokens.ts';
import { err } from '../errors.ts';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const EXEMPT = new Set(['/api/auth/login']);

/** The preHandler check, exported so route-specific code and tests can reuse it. */
export async function csrfCheck(req: FastifyRequest): Promise<void> {
  const p = req.principal;
  if (!p || p.via !== 'session' || !UNSAFE.has(req.method)) return;
  if (EXEMPT.has(req.routeOptions.url ?? '')) return;
  const header = req.headers['x-csrf-token'];
  const body = req.body as Record<string, unknown> | undefined | null;
  const query = req.query as Record<string, unknown> | undefined | null;
  const given =
    (typeof header === 'string' ? header : undefined) ??
    (body && typeof body === 'object' && typeof body._csrf === 'string' ? body._csrf : undefined) ??
    (req.isMultipart?.() && query && typeof query._csrf === 'string' ? query._csrf : undefined);
  if (!given || !p.csrfToken || !safeEqual(given, p.csrfToken)) {
    throw err.forbidden('Missing or wrong CSRF token: send the x-csrf-token header (or the _csrf form field)', 'CSRF_TOKEN_INVALID');
  }
}

export default fp(
  async function csrfPlugin(app: FastifyInstance) {
    app.addHook('preHandler', csrfCheck);
  },
  { name: 'csrf', dependencies: ['auth'] },
);
