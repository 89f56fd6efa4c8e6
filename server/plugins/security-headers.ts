/**
 * Security headers for every response: `nosniff`, a strict Referrer-Policy and Permissions-Policy,
 * and — for HTML pages — a strict Content-Security-Policy (no inline script or style, nothing
 * from other origins, not frameable). Responses that set their own CSP (file downloads, the API
 * docs UI) keep it.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
  "base-uri 'none'",
].join('; ');

export default fp(
  async function securityHeaders(app: FastifyInstance) {
    app.addHook('onSend', async (req, reply, payload) => {
      reply.header('x-content-type-options', 'nosniff');
      if (!reply.hasHeader('referrer-policy')) reply.header('referrer-policy', 'same-origin');
      if (!reply.hasHeader('permissions-policy')) reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()');
      const type = String(reply.getHeader('content-type') ?? '');
      // The swagger UI at /docs ships its own inline bootstrap; it is documentation, not user content.
      if (type.startsWith('text/html') && !reply.hasHeader('content-security-policy') && !req.url.startsWith('/docs')) {
        reply.header('content-security-policy', PAGE_CSP);
        reply.header('x-frame-options', 'DENY');
      }
      return payload;
    });
  },
  { name: 'security-headers' },
);
