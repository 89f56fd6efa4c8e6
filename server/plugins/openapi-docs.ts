/**
 * What the generated OpenAPI document says beyond the route schemas that fastify validates with
 * (`transform` of @fastify/swagger, applied to the document only):
 * - an `operationId` for every operation (`getApiProductsById`…), which client generators need;
 * - the multipart form of `POST /api/products`, which the route reads as a stream and so cannot
 *   declare as a validated body;
 * - the successful answers of the file routes (the bytes: 200, or 206 for a Range), which have no
 *   JSON schema to serialise with.
 */
import type { FastifySchema, RouteOptions } from 'fastify';
import { EDITABLE_FIELDS } from '../catalogue/product-fields.ts';
import { PRODUCT_TYPES } from '../db/schema.ts';

export function operationId(method: string, url: string): string {
  const words = url
    .split('/')
    .filter(Boolean)
    .map((seg) => (seg.startsWith(':') ? `by-${seg.slice(1)}` : seg))
    .flatMap((seg) => seg.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  return [method.toLowerCase(), ...words.map((w) => w[0].toUpperCase() + w.slice(1))].join('');
}

const binary = (description: string, mediaType = 'application/octet-stream') => ({ description, content: { [mediaType]: { schema: { type: 'string', format: 'binary' } } } });

const UPLOAD_BODY = {
  type: 'object',
  required: ['title', 'type', 'file'],
  properties: {
    ...Object.fromEntries(EDITABLE_FIELDS.map((f) => [f, { type: 'string' }])),
    type: { type: 'string', enum: [...PRODUCT_TYPES] },
    file: { type: 'array', items: { type: 'string', format: 'binary' }, description: 'One or more files, sent after the fields' },
  },
};

export function documentRoute({ schema, url, route }: { schema: FastifySchema; url: string; route: RouteOptions }): { schema: FastifySchema; url: string } {
  const method = [route.method].flat()[0] ?? 'GET';
  const out: Record<string, unknown> = { ...(schema ?? {}) };
  out.operationId ??= operationId(String(method), url);
  if (method === 'POST' && url === '/api/products') out.body = UPLOAD_BODY;
  if (method === 'GET' && url === '/api/files/:sha256') {
    out.response = { ...(schema?.response as object), 200: binary('The original file, with its own media type', '*/*'), 206: binary('The requested byte range (Range header)', '*/*'), 304: { description: 'Not modified (If-None-Match)', type: 'null' } };
  }
  if (method === 'GET' && url === '/api/files/:sha256/thumbnail') {
    out.response = { ...(schema?.response as object), 200: binary('The thumbnail, or a placeholder for kinds without a picture', 'image/webp'), 304: { description: 'Not modified (If-None-Match)', type: 'null' } };
  }
  return { schema: out as FastifySchema, url };
}
