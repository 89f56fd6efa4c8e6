/**
 * multipart/form-data bodies are left unread by Fastify: the upload route streams them itself
 * with server/ingest/multipart.ts. This plugin registers that content type (so Fastify does not
 * answer 415) and decorates `req.isMultipart()`, which the CSRF check uses.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    isMultipart(): boolean;
  }
}

const kMultipart = Symbol('multipart');

export default fp(
  async function multipartPlugin(app: FastifyInstance) {
    app.decorateRequest('isMultipart', function (this: FastifyRequest) {
      return (this as unknown as { [kMultipart]?: boolean })[kMultipart] === true;
    });
    app.addContentTypeParser('multipart/form-data', (req, _payload, done) => {
      (req as unknown as { [kMultipart]?: boolean })[kMultipart] = true;
      done(null);
    });
  },
  { name: 'multipart' },
);
