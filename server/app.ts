/**
 * `buildApp(config)` returns a ready Fastify instance and never listens (server/server.ts does).
 * Loading order: ecosystem plugins, then the app's own plugins (events, services, auth, errors),
 * then routes.
 */
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Config } from './config.ts';
import authPlugin from './plugins/auth.ts';
import cataloguePlugin from './plugins/catalogue.ts';
import csrfPlugin from './plugins/csrf.ts';
import { documentRoute } from './plugins/openapi-docs.ts';
import jsonTypesPlugin from './plugins/json-types.ts';
import errorsPlugin, { clientErrorResponse, frameworkErrorReply, MAX_PARAM_LENGTH } from './plugins/errors.ts';
import eventsPlugin from './plugins/events.ts';
import multipartPlugin from './plugins/multipart.ts';
import searchPlugin from './plugins/search.ts';
import securityHeadersPlugin from './plugins/security-headers.ts';
import servicesPlugin from './plugins/services.ts';
import metricsPlugin from './plugins/metrics.ts';
import adminOpsRoutes from './routes/admin-ops.ts';
import metricsRoutes from './routes/metrics.ts';
import oaiRoutes from './routes/oai.ts';
import exchangeRoutes from './routes/exchange.ts';
import agencyRoutes from './routes/agencies.ts';
import authRoutes from './routes/auth.ts';
import fileRoutes from './routes/files.ts';
import healthRoutes from './routes/health.ts';
import productUploadRoutes from './routes/products-upload.ts';
import productRoutes from './routes/products.ts';
import reportRoutes from './routes/reports.ts';
import searchRoutes from './routes/search.ts';
import userRoutes from './routes/users.ts';
import webRoutes from './web/routes.ts';

/**
 * A request as the log shows it: pino's default fields, with any CSRF token in the URL left out
 * (`POST /nop?_csrf=…`: the upload form's token is in its body now, but a page opened before that
 * change still sends it in the query).
 */
export function requestForLog(req: FastifyRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: req.url.replace(/([?&]_csrf=)[^&#]*/g, '$1[hidden]'),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

export interface BuildOptions {
  /** pino options or false; defaults to JSON logs at config.logLevel. */
  logger?: FastifyServerOptions['logger'];
}

export async function buildApp(config: Config, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      opts.logger === undefined || (typeof opts.logger === 'object' && opts.logger !== null)
        ? { level: config.logLevel, ...(opts.logger ?? {}), serializers: { req: requestForLog, ...(opts.logger?.serializers ?? {}) } }
        : opts.logger,
    // One hop: the client address is the one the reverse proxy saw (the last X-Forwarded-For
    // entry), not the first, which the client writes itself (`X-Forwarded-For: 127.0.0.1` would
    // pass for localhost at /metrics and dodge the per-address login limit).
    trustProxy: config.trustProxy ? (_address: string, hop: number) => hop === 0 : false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkErrorReply,
    clientErrorHandler: (err, socket) => {
      // A reset or already-closed connection has no one to answer.
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      socket.end(clientErrorResponse(err as NodeJS.ErrnoException));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  // Shutting down: close() drops the keep-alive connections idle at that moment, but one whose
  // response was still finishing would linger until its keep-alive timeout (72 s). Sweep them as
  // they become idle until the server has closed.
  let idleSweep: NodeJS.Timeout | null = null;
  app.addHook('preClose', async () => {
    idleSweep = setInterval(() => app.server.closeIdleConnections(), 100);
    idleSweep.unref();
  });
  app.addHook('onClose', async () => {
    if (idleSweep) clearInterval(idleSweep);
  });

  // Ecosystem plugins (and our multipart content type: the upload route streams those bodies itself).
  await app.register(cookie);
  await app.register(formbody);
  await app.register(multipartPlugin);
  // OpenAPI 3 generated from the route schemas; interactive UI at /docs.
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Kho tư liệu API', version: '1.0.0', description: 'Archive catalogue of propaganda and traditional-education products' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: documentRoute,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // The app's own plugins.
  await app.register(errorsPlugin);
  await app.register(jsonTypesPlugin);
  await app.register(securityHeadersPlugin);
  await app.register(eventsPlugin);
  await app.register(servicesPlugin, { config });
  await app.register(authPlugin);
  await app.register(metricsPlugin);
  await app.register(searchPlugin);
  await app.register(csrfPlugin);
  await app.register(cataloguePlugin);

  // Routes.
  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  await app.register(adminOpsRoutes);
  await app.register(oaiRoutes);
  await app.register(exchangeRoutes);
  await app.register(productUploadRoutes);
  await app.register(productRoutes);
  await app.register(fileRoutes);
  await app.register(authRoutes);
  await app.register(userRoutes);
  await app.register(agencyRoutes);
  await app.register(reportRoutes);
  await app.register(searchRoutes);
  await app.register(webRoutes);

  await app.ready();
  return app;
}
