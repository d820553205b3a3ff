import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.js';

export function healthRoutes(app: FastifyInstance, deps: AppDeps): void {
  // Cheap by design: answered from in-memory counters, never the database.
  app.get('/health', async () => {
    const s = deps.runner.stats();
    return {
      status: deps.isShuttingDown() ? 'shutting_down' : 'ok',
      busy: s.active >= s.capacity,
      active: s.active,
      queued: s.queued,
      // What max_queue_depth bounds: one more job is refused once this reaches it.
      in_flight: s.active + s.queued,
      capacity: s.capacity,
      max_queue_depth: s.maxQueueDepth,
      version: deps.version,
    };
  });
}
