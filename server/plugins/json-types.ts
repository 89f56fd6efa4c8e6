/**
 * A JSON body keeps the types its client sent. The schema validator coerces types
 * (`coerceTypes: 'array'` in app.ts) because a form post carries every value as text; applied to a
 * JSON body, that coercion stored `false` as the text "false", turned `0`, `false` or `""` into
 * null for a field that may be null (clearing it), and `false` into 0 for a number. This plugin
 * notes the JSON type of each top-level value of a JSON object body before validation and answers
 * 400 VALIDATION_FAILED (naming the field) when validation changed one in a way that loses what
 * was meant (`lossy`). Form bodies are not concerned, nor are routes whose schema leaves a body's
 * values alone (nothing changes).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, err } from '../errors.ts';

const sent = new WeakMap<FastifyRequest, Map<string, { type: string; value: unknown }>>();
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const NAMES: Record<string, string> = { string: 'text', integer: 'a number', number: 'a number', boolean: 'true or false', array: 'a list', object: 'an object', null: 'null' };

/**
 * Coercions that change what the client meant. Text read as a number or a truth value ("30",
 * "true"), a number read as text, and one value read as a list of one are kept: they are what a
 * form would send, and unambiguous.
 */
function lossy(before: string, after: string): boolean {
  if (after === before) return false;
  if (after === 'null') return true;
  if (before === 'boolean') return true;
  // A number read as true or false (0, 1) is refused; "true" and "false" are kept.
  return after === 'boolean' && before !== 'string';
}

function plainObjectBody(req: FastifyRequest): Record<string, unknown> | null {
  const body = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body)) return null;
  const type = req.headers['content-type'];
  return typeof type === 'string' && JSON_TYPE.test(type) ? (body as Record<string, unknown>) : null;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

export default fp(
  async function jsonTypesPlugin(app: FastifyInstance) {
    // JSON is UTF-8 (RFC 8259). Fastify's own parser decodes the body leniently, so bytes that are
    // no UTF-8 (a body saved in Windows-1258) were stored as U+FFFD in place of the letters: 400 instead.
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
      let text: string;
      try {
        text = STRICT_UTF8.decode(body as Buffer);
      } catch {
        done(new AppError(400, 'INVALID_JSON', 'The JSON body is not valid UTF-8 (send it encoded as UTF-8)'), undefined);
        return;
      }
      parseJson(req, text, done);
    });
    app.addHook('preValidation', async (req) => {
      const body = plainObjectBody(req);
      if (!body) return;
      const types = new Map<string, { type: string; value: unknown }>();
      for (const key of Object.keys(body)) types.set(key, { type: jsonType(body[key]), value: body[key] });
      sent.set(req, types);
    });
    app.addHook('preHandler', async (req) => {
      const types = sent.get(req);
      if (!types) return;
      const body = req.body as Record<string, unknown>;
      for (const [key, { type: before, value }] of types) {
        const after = jsonType(body[key]);
        if (!lossy(before, after)) continue;
        const shown = typeof value === 'object' ? (NAMES[before] ?? before) : JSON.stringify(value);
        throw err.validation(
          key,
          after === 'null' ? `${key} cannot be ${shown}: send null to clear it` : `${key} must be ${NAMES[after] ?? after}, not ${shown}`,
        );
      }
    });
  },
  { name: 'json-types' },
);
