/**
 * Page handlers that change things go through the JSON API in-process (`app.inject`), carrying
 * the user's cookie and CSRF token: validation, workflow rules and audit stay in one place, and
 * the page only turns the answer into HTML.
 */
import type { FastifyInstance } from 'fastify';
import type { PageCtx } from './context.ts';

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | number | undefined>;
}

export async function callApi<T = Record<string, unknown>>(
  app: FastifyInstance,
  ctx: PageCtx,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  payload?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { 'x-csrf-token': ctx.csrf, accept: 'application/json', ...extraHeaders };
  if (ctx.req.headers.cookie) headers.cookie = ctx.req.headers.cookie;
  if (ctx.req.headers.authorization) headers.authorization = ctx.req.headers.authorization;
  if (ctx.req.headers['user-agent']) headers['user-agent'] = String(ctx.req.headers['user-agent']);
  const res = await app.inject({
    method,
    url,
    headers,
    remoteAddress: ctx.req.ip,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  let body: unknown = {};
  const text = res.body;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = { raw: text };
    }
  }
  return { status: res.statusCode, body: body as T, headers: res.headers };
}

/** The `code` and `message` of an API error answer. */
export function apiError(a: ApiAnswer): { code: string; message: string; field?: string; errors?: Array<{ field: string; message: string }> } {
  const b = a.body as { code?: string; message?: string; field?: string; errors?: Array<{ field: string; message: string }> };
  return {
    code: b.code ?? `HTTP_${a.status}`,
    message: b.message ?? '',
    ...(b.field ? { field: b.field } : {}),
    ...(Array.isArray(b.errors) ? { errors: b.errors } : {}),
  };
}
