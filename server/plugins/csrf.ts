/**
 * CSRF protection for cookie sessions: an unsafe request (POST, PUT, PATCH, DELETE) authenticated
 * by the session cookie must echo the session's CSRF token in the `x-csrf-token` header, or in a
 * form field `_csrf` (urlencoded bodies). Never in the query: a token in a URL lands in browser
 * history and proxies' logs. A multipart body is read later by its handler, so this hook cannot
 * see its fields: a route that takes a multipart form from a browser (`POST /nop`) sets
 * `config: { csrfInMultipartBody: true }` and checks the form's first `_csrf` part itself before
 * any file byte is written (server/web/pages/upload.ts); any other multipart request needs the
 * header. Bearer-token requests carry no ambient credentials and are exempt; so is
 * POST /api/auth/login (there is no session yet to protect). A mismatch is 403 CSRF_TOKEN_INVALID.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { safeEqual } from '../auth/tokens.ts';
import { err } from '../errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route checks the CSRF token of a multipart body itself, from the form's first parts. */
    csrfInMultipartBody?: boolean;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const EXEMPT = new Set(['/api/auth/login']);

/** The preHandler check, exported so route-specific code and tests can reuse it. */
export async function csrfCheck(req: FastifyRequest): Promise<void> {
  const p = req.principal;
  if (!p || p.via !== 'session' || !UNSAFE.has(req.method)) return;
  if (EXEMPT.has(req.routeOptions.url ?? '')) return;
  if (req.isMultipart?.() && req.routeOptions.config?.csrfInMultipartBody === true) return;
  const header = req.headers['x-csrf-token'];
  const body = req.body as Record<string, unknown> | undefined | null;
  const given =
    (typeof header === 'string' ? header : undefined) ??
    (body && typeof body === 'object' && typeof body._csrf === 'string' ? body._csrf : undefined);
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
