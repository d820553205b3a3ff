import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../../lib/validate.js';
import { JOB_STATUSES, FINISHED_STATUSES, type JobEvent } from '../../runner/types.js';
import type { AppDeps } from '../deps.js';
import { openSse } from '../sse.js';

/** Git ref names: no spaces, no leading dash (would read as an option), no `..`. */
export const refSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._\/@^~{}-]+$/, 'not a valid git ref');

export const executeSchema = z
  .object({
    prompt: z.string().min(1, 'must not be empty'),
    agent: z.string().min(1).max(100).optional(),
    model: z.string().min(1).max(200).optional(),
    timeout_s: z.number().int().positive().max(7 * 24 * 3600).optional(),
    base_ref: refSchema.optional(),
    metadata: z.record(z.unknown()).optional(),
    reserve: z.array(z.string().min(1).max(1024)).min(1).max(1000).optional(),
    task_id: z.string().min(1).max(100).optional(),
    land: z.boolean().optional(),
    parent_job_id: z.string().min(1).max(100).optional(),
  })
  .strict();

const listQuery = z.object({
  status: z.enum(JOB_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: z.string().max(40).optional(),
});

const idParams = z.object({ id: z.string().min(1).max(100) });

export function jobRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { runner } = deps;

  app.post('/execute', async (req, reply) => {
    const body = parseInput(executeSchema, req.body ?? {});
    const r = runner.submit(body);
    return reply.code(202).send(r);
  });

  app.get('/jobs', async (req) => {
    const q = parseInput(listQuery, req.query);
    return runner.list(q);
  });

  app.get('/jobs/:id', async (req) => {
    const { id } = parseInput(idParams, req.params);
    const job = { ...runner.get(id), landing: deps.land.describeJob(id) ?? null };
    return job.status === 'queued' ? { ...job, position: runner.positionOf(id) } : job;
  });

  app.post('/jobs/:id/cancel', async (req) => {
    const { id } = parseInput(idParams, req.params);
    const job = runner.cancel(id);
    return { job_id: job.id, status: job.status };
  });

  // Status changes, agent events and log lines; replays what was missed after Last-Event-ID,
  // then follows live until the job ends.
  app.get('/jobs/:id/events', async (req, reply) => {
    const { id } = parseInput(idParams, req.params);
    runner.get(id);
    const q = req.query as Record<string, string | undefined>;
    const lastRaw = (req.headers['last-event-id'] as string | undefined) ?? q.last_event_id ?? '0';
    let last = Number(lastRaw);
    if (!Number.isInteger(last) || last < 0) last = 0;

    const sse = openSse(req, reply);
    const pending: JobEvent[] = [];
    let replaying = true;
    const deliver = (e: JobEvent): void => {
      if (e.id <= last) return;
      last = e.id;
      sse.send({ id: e.id, event: e.type, data: JSON.stringify(e) });
      if (e.type === 'status' && FINISHED_STATUSES.has(e.data.status as never)) sse.close();
    };
    // Subscribe before replaying so nothing falls between the two.
    const unsubscribe = runner.subscribe(id, (e) => (replaying ? pending.push(e) : deliver(e)));
    sse.onClose(unsubscribe);
    for (;;) {
      const batch = runner.eventsSince(id, last);
      for (const e of batch) deliver(e);
      if (batch.length < 10_000 || sse.closed) break;
    }
    replaying = false;
    for (const e of pending) deliver(e);
    if (!sse.closed && FINISHED_STATUSES.has(runner.get(id).status)) sse.close();
  });
}
