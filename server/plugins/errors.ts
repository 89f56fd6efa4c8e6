/**
 * One error format for the whole API: `{ statusCode, code, error, message, field? }`.
 * Known client errors keep their status and get a stable code; anything unexpected is a logged 500
 * whose body reveals nothing internal.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { STATUS_CODES } from 'node:http';
import { AppError, storageFault, type ApiErrorBody } from '../errors.ts';

/** routerOptions.maxParamLength (server/app.ts): the longest path parameter the router takes. */
export const MAX_PARAM_LENGTH = 200;

/** Query keys that take a comma-separated list (search filters, the products list's states). */
const LIST_QUERY_KEYS = new Set(['type', 'agency', 'language', 'state']);

/** Fastify / plugin error codes → our stable codes (and status where theirs is wrong for us). */
export const MAPPED: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'BODY_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_CONTENT_TYPE' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'INVALID_JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'INVALID_JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'BAD_CONTENT_LENGTH' },
  FST_ERR_VALIDATION: { status: 400, code: 'VALIDATION_FAILED' },
  FST_ERR_BAD_URL: { status: 400, code: 'BAD_URL' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, code: 'BAD_REQUEST' },
  ERR_RATE_LIMIT: { status: 429, code: 'RATE_LIMITED' },
};

export function errorBody(statusCode: number, code: string, message: string, extra: Record<string, unknown> = {}): ApiErrorBody {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message, ...extra };
}

/** What most likely made Node's HTTP parser refuse a request, by its error code (llhttp's). */
const MALFORMED_WHY: Record<string, string> = {
  HPE_INVALID_URL: ': characters outside ASCII in a URL must be percent-encoded.',
  HPE_INVALID_METHOD: ': not an HTTP request, or bytes left over after a body longer than its Content-Length said.',
  HPE_INVALID_CONTENT_LENGTH: ': the Content-Length is not a number (or is sent twice with different values).',
  HPE_UNEXPECTED_CONTENT_LENGTH: ': Content-Length and Transfer-Encoding were both sent.',
  HPE_INVALID_TRANSFER_ENCODING: ': Content-Length and Transfer-Encoding were both sent, or the Transfer-Encoding is unknown.',
  HPE_INVALID_CHUNK_SIZE: ': a chunk of the chunked body has a malformed size.',
};

/** The 404 of a path with a trailing slash, which no route has: it names the path without it. */
function trailingSlashMessage(method: string, path: string): string {
  return `No route ${method} ${path}; without the trailing slash: ${path.replace(/\/+$/, '')}`;
}

/** Longest request line (method, URL, version) taken as "headers too large" rather than "URL too long". */
const MAX_REQUEST_LINE = 8 * 1024;

/**
 * Whether the bytes Node's parser gave up on start with a request line that is itself over
 * MAX_REQUEST_LINE: the URL, not the header lines, passed the header size limit (maxHeaderSize,
 * 16 KiB), which is 414, not 431.
 */
function requestLineTooLong(packet: Buffer | undefined): boolean {
  if (!packet || !/^[A-Z]{3,10} \//.test(packet.subarray(0, 12).toString('latin1'))) return false;
  const eol = packet.indexOf('\r\n');
  return (eol === -1 ? packet.length : eol) > MAX_REQUEST_LINE;
}

/**
 * A request Node's HTTP parser refuses before any route sees it (raw non-ASCII bytes in the URL, a
 * malformed request line or header, headers over the size limit, a request that took too long):
 * the same JSON error body as every other 4xx, with a stable code, then the connection is closed.
 * Given to Fastify as `clientErrorHandler` (server/app.ts).
 */
export function clientErrorResponse(err: NodeJS.ErrnoException & { rawPacket?: Buffer }): string {
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW' && requestLineTooLong(err.rawPacket)
      ? [414, 'URI_TOO_LONG', 'The URL is too long (a search query or filter list this long belongs in fewer words).']
      : err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'HEADERS_TOO_LARGE', 'The request headers are too large.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'REQUEST_TIMEOUT', 'The request took too long to arrive.']
        : [400, 'MALFORMED_REQUEST', `The request is not valid HTTP${MALFORMED_WHY[err.code ?? ''] ?? '.'}`];
  const body = JSON.stringify(errorBody(status, code, message));
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * Errors fastify raises while routing, before any hook or handler (a malformed percent-encoding in
 * the path, a path parameter over the length limit): the same body and stable codes as the rest.
 * Given to Fastify as `frameworkErrors` (server/app.ts).
 */
export function frameworkErrorReply(error: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const [status, code, message] =
    error.code === 'FST_ERR_BAD_URL'
      ? [400, 'BAD_URL', 'The path is not valid (a malformed percent-encoding?)']
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH' || (error.statusCode ?? 0) === 414
        ? [414, 'URI_TOO_LONG', 'A part of the path is too long']
        : [error.statusCode && error.statusCode < 500 ? error.statusCode : 400, 'BAD_REQUEST', error.message];
  reply.code(status).header('content-type', 'application/json; charset=utf-8').header('x-content-type-options', 'nosniff').send(errorBody(status, code, message));
}

/** Whether every part of a URL's query string is well-formed percent-encoded UTF-8 (false: `%ED%A0%80`, `%FF`, `%`). */
export function queryStringDecodes(url: string): boolean {
  const at = url.indexOf('?');
  if (at === -1) return true;
  for (const part of url.slice(at + 1).split('&')) {
    try {
      decodeURIComponent(part.replace(/\+/g, ' '));
    } catch {
      return false;
    }
  }
  return true;
}

/** Field name from a fastify/ajv validation error (`/title` → `title`, `querystring/size` → `size`). */
function validationField(e: FastifyError): string | undefined {
  const v = e.validation?.[0];
  if (!v) return undefined;
  const missing = (v.params as { missingProperty?: string; additionalProperty?: string } | undefined);
  if (missing?.missingProperty) return missing.missingProperty;
  if (missing?.additionalProperty) return missing.additionalProperty;
  const path = v.instancePath?.replace(/^\//, '').replace(/\//g, '.');
  return path || undefined;
}

/**
 * The message of a validation failure. A value outside a list of constants (a union of literals)
 * makes ajv complain once per allowed value ("must be equal to constant" six times, then "must match
 * a schema in anyOf"): that becomes one sentence naming the allowed values.
 */
function validationMessage(e: FastifyError): string {
  const errors = e.validation ?? [];
  const anyOf = errors.find((v) => v.keyword === 'anyOf');
  if (!anyOf) return e.message;
  const at = anyOf.instancePath;
  const allowed = errors.filter((v) => v.keyword === 'const' && v.instancePath === at).map((v) => JSON.stringify((v.params as { allowedValue?: unknown }).allowedValue));
  const orNull = errors.some((v) => v.keyword === 'type' && v.instancePath === at && (v.params as { type?: unknown }).type === 'null');
  const context = (e as FastifyError & { validationContext?: string }).validationContext ?? 'body';
  if (allowed.length > 0) return `${context}${at} must be one of ${allowed.join(', ')}${orNull ? ', or null' : ''}`;
  // A nullable value (`anyOf: [X, null]`) that fails X: say what X asks, not also "must be null"
  // and "must match a schema in anyOf".
  const rest = errors.filter((v) => v !== anyOf && !(v.keyword === 'type' && v.instancePath === at && (v.params as { type?: unknown }).type === 'null'));
  if (!orNull || rest.length === 0) return e.message;
  return `${rest.map((v) => `${context}${v.instancePath} ${v.message}`).join(', ')} (or null)`;
}

/** How the web UI answers a browser that asked a page URL with a method or path no route has. */
export interface PageErrors {
  render: ((req: FastifyRequest, reply: FastifyReply, status: 404 | 405) => FastifyReply) | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by the web UI: a page instead of JSON for a person's browser outside `/api`. */
    pageErrors: PageErrors;
    /** 405 METHOD_NOT_ALLOWED (with Allow) when some route has the path for other methods, else 404 ROUTE_NOT_FOUND. */
    notFoundOrNotAllowed(req: FastifyRequest, reply: FastifyReply): FastifyReply;
  }
}

export default fp(
  async function errorsPlugin(app: FastifyInstance) {
    // An id in an API path is a plain decimal number. Ajv's type coercion would also read "0x10",
    // "1e3", " 16" or "16.0" as one, so /api/products/0x10 answered with product 16.
    app.addHook('preValidation', async (req) => {
      const id = (req.params as { id?: unknown } | undefined)?.id;
      // `/api/products/` (a trailing slash) reaches `/api/products/:id` with an empty id: no such route.
      if (id === '' && req.url.startsWith('/api/')) {
        const path = req.url.split('?')[0];
        throw new AppError(404, 'ROUTE_NOT_FOUND', trailingSlashMessage(req.method, path));
      }
      if (typeof id === 'string' && req.url.startsWith('/api/') && !/^[0-9]{1,15}$/.test(id)) {
        throw new AppError(400, 'VALIDATION_FAILED', 'params/id must be a whole number written in decimal digits', { field: 'id' });
      }
    });
    // The query string of an API request: its encoding, then keys given twice.
    app.addHook('preValidation', async (req) => {
      if (!req.url.startsWith('/api/')) return;
      // A malformed percent-encoding, or one of bytes that are no UTF-8 (`%ED%A0%80`, a lone
      // surrogate; `%FF`): the query parser kept such a value as its raw text (`q=%ED%A0%80` was
      // searched for as "ed a0 80"). The same 400 as a malformed path.
      if (!queryStringDecodes(req.url)) {
        throw new AppError(400, 'BAD_URL', 'The query string is not valid: a malformed percent-encoding, or one of bytes that are not UTF-8');
      }
      // A query key given twice (`?type=book&type=map`). The filters that take a comma-separated list
      // (docs/search.md) take the repetition as the same list, as a browser form with several boxes
      // sends it; any other key given twice is a clear 400 naming it (was "must be string").
      const query = req.query as Record<string, unknown> | undefined;
      if (!query || typeof query !== 'object') return;
      for (const [key, value] of Object.entries(query)) {
        if (!Array.isArray(value)) continue;
        if (LIST_QUERY_KEYS.has(key)) query[key] = value.map(String).join(',');
        else throw new AppError(400, 'VALIDATION_FAILED', `querystring/${key} must be given once (it was given ${value.length} times)`, { field: key });
      }
    });
    app.setErrorHandler((error: FastifyError | AppError, req: FastifyRequest, reply: FastifyReply) => {
      if (error instanceof AppError) {
        if (error.statusCode === 416 && typeof error.details.size === 'number') reply.header('Content-Range', `bytes */${error.details.size}`);
        return reply.code(error.statusCode).send(errorBody(error.statusCode, error.code, error.message, error.details));
      }
      const fe = error as FastifyError;
      const mapped = fe.code ? MAPPED[fe.code] : undefined;
      if (fe.validation) {
        const field = validationField(fe);
        return reply.code(400).send(errorBody(400, 'VALIDATION_FAILED', validationMessage(fe), field ? { field } : {}));
      }
      if (mapped) return reply.code(mapped.status).send(errorBody(mapped.status, mapped.code, mapped.message ?? fe.message));
      const status = fe.statusCode ?? 500;
      if (status >= 400 && status < 500) {
        return reply.code(status).send(errorBody(status, fe.code ?? 'BAD_REQUEST', fe.message));
      }
      // The server's disk is full, read-only or failing: a stable code (logged for the operators).
      const fault = storageFault(error);
      if (fault) {
        req.log.error({ err: error, code: fault.code }, 'storage fault');
        return reply.code(fault.statusCode).send(errorBody(fault.statusCode, fault.code, fault.message));
      }
      // A client that went away mid-request is not a server fault. (Not `req.raw.destroyed` alone: a
      // request whose body has been read is destroyed too, which made every fault a 400 logged at info.)
      if (req.raw.readableAborted || req.raw.socket?.destroyed === true || (req.raw.destroyed && !req.raw.complete)) {
        req.log.info({ err: error }, 'request aborted by the client');
        return reply.code(400).send(errorBody(400, 'REQUEST_ABORTED', 'The request was aborted'));
      }
      req.log.error({ err: error }, 'unhandled error');
      return reply.code(500).send(errorBody(500, 'INTERNAL_ERROR', 'Internal server error'));
    });
    // Every route's path as a pattern, to tell "no such path" (404) from "not with this method" (405).
    // (Not the web's catch-all GET `/*`, which answers every other GET with a 404 page.)
    const routes: Array<{ pattern: RegExp; methods: string[] }> = [];
    app.addHook('onRoute', (route) => {
      if (route.url.includes('*')) return;
      const source = route.url.split('/').map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/');
      routes.push({ pattern: new RegExp(`^${source}/?$`), methods: [route.method].flat().map(String) });
    });
    /** The methods some route answers on this path (empty: no route has it). */
    const methodsFor = (path: string): string[] => {
      const allowed = new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods));
      if (allowed.has('GET')) allowed.add('HEAD');
      return [...allowed].sort();
    };
    app.decorate('pageErrors', { render: null } as PageErrors);
    /** A browser asking for a page (not the API, not a script asking for JSON). */
    const wantsPage = (req: FastifyRequest, path: string): boolean =>
      app.pageErrors.render !== null && !path.startsWith('/api/') && path !== '/api' && /text\/html/.test(String(req.headers.accept ?? ''));
    app.decorate('notFoundOrNotAllowed', (req: FastifyRequest, reply: FastifyReply) => {
      const path = req.url.split('?')[0];
      const allowed = methodsFor(path);
      if (!allowed.includes(req.method) && wantsPage(req, path)) {
        if (allowed.length > 0) reply.header('allow', allowed.join(', '));
        return app.pageErrors.render!(req, reply, allowed.length > 0 ? 405 : 404);
      }
      // A path some route of this very method has, yet no route took it: a parameter longer than
      // the router takes (routerOptions.maxParamLength), as fastify answers other methods; or the
      // path with a trailing slash, which no route has (`/api/products/1/`): 404, naming the path without it.
      if (allowed.includes(req.method)) {
        if (path.length > 1 && path.endsWith('/') && !path.split('/').some((seg) => seg.length > MAX_PARAM_LENGTH)) {
          return reply.code(404).send(errorBody(404, 'ROUTE_NOT_FOUND', trailingSlashMessage(req.method, path)));
        }
        return reply.code(414).send(errorBody(414, 'URI_TOO_LONG', 'A part of the path is too long'));
      }
      if (allowed.length > 0 && !allowed.includes(req.method)) {
        const allow = allowed.join(', ');
        return reply.code(405).header('allow', allow).send(errorBody(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path} (allowed: ${allow})`));
      }
      return reply.code(404).send(errorBody(404, 'ROUTE_NOT_FOUND', `No route ${req.method} ${path}`));
    });
    app.setNotFoundHandler((req, reply) => app.notFoundOrNotAllowed(req, reply));
  },
  { name: 'errors' },
);
