import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.js';

/** Prometheus text exposition of the daemon's gauges; cheap, from in-memory counters. */
export function metricsRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/metrics', async (_req, reply) => {
    const s = deps.runner.stats();
    const lines = [
      '# HELP colony_jobs_active Jobs preparing or running.',
      '# TYPE colony_jobs_active gauge',
      `colony_jobs_active ${s.active}`,
      '# HELP colony_jobs_queued Jobs waiting for a slot.',
      '# TYPE colony_jobs_queued gauge',
      `colony_jobs_queued ${s.queued}`,
      '# HELP colony_capacity Jobs that may run at once.',
      '# TYPE colony_capacity gauge',
      `colony_capacity ${s.capacity}`,
      '# HELP colony_max_queue_depth Jobs in flight (running + waiting) before 429.',
      '# TYPE colony_max_queue_depth gauge',
      `colony_max_queue_depth ${s.maxQueueDepth}`,
      '# HELP colony_jobs_finished_total Jobs finished since start, by final status.',
      '# TYPE colony_jobs_finished_total counter',
      ...Object.entries(deps.runner.finishedCounts()).map(([status, n]) => `colony_jobs_finished_total{status="${status}"} ${n}`),
      '# HELP colony_process_resident_memory_bytes Resident set size.',
      '# TYPE colony_process_resident_memory_bytes gauge',
      `colony_process_resident_memory_bytes ${process.memoryUsage().rss}`,
    ];
    return reply.type('text/plain; version=0.0.4').send(lines.join('\n') + '\n');
  });
}
