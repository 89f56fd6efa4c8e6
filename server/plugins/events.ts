/**
 * In-process events between services that must not import each other: e.g. the job runner
 * announces `blob-extracted` and search reindexes; routes announce `product-changed`.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { EventEmitter } from 'node:events';

export interface AppEvents {
  /** A blob's facts and text were committed. */
  'blob-extracted': [sha256: string];
  /** A product was created, edited, changed state or gained files (committed). */
  'product-changed': [productId: number];
  /** A product was deleted (committed). */
  'product-deleted': [productId: number];
  /** An agency's fields were changed (committed). */
  'agency-changed': [agencyId: number];
}

export type AppEventBus = EventEmitter<AppEvents>;

declare module 'fastify' {
  interface FastifyInstance {
    events: AppEventBus;
  }
}

export default fp(
  async function eventsPlugin(app: FastifyInstance) {
    // Listeners run synchronously inside the emitting request; each listener guards its own errors.
    const bus = new EventEmitter<AppEvents>();
    app.decorate('events', bus);
  },
  { name: 'events' },
);
