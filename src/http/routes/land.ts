import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../../lib/validate.js';
import { ENTRY_STATUSES, type LandEvent } from '../../land/index.js';
import type { AppDeps } from '../deps.js';
import { openSse } from '../sse.js';

const idParams = z.object({ id: z.string().min(1).max(100) }).strict();
const listQuery = z
  .object({
    status: z.enum(ENTRY_STATUSES).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

/** The merge queue: list, land a job, retry or remove an entry, and follow every transition. */
export function landRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { land } = deps;

  app.get('/merge-queue', async (req) => land.status(parseInput(listQuery, req.query)));

  app.get('/merge-queue/:id', async (req) => land.entry(parseInput(idParams, req.params).id));

  app.post('/jobs/:id/land', async (req, reply) => {
    const { id } = parseInput(idParams, req.params);
    const entry = land.land(id);
    return reply
      .code(202)
      .send(entry ? { job_id: id, entry } : { job_id: id, entry: null, message: `job ${id} has not finished; its branch enters the merge queue when it completes` });
  });

  app.post('/merge-queue/:id/retry', async (req, reply) => reply.code(202).send(land.retry(parseInput(idParams, req.params).id)));

  app.post('/merge-queue/:id/remove', async (req) => land.remove(parseInput(idParams, req.params).id));

  // Every transition of every entry; replays from Last-Event-ID, then follows live.
  app.get('/merge-queue/events', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    let last = Number((req.headers['last-event-id'] as string | undefined) ?? q.last_event_id ?? '0');
    if (!Number.isInteger(last) || last < 0) last = 0;
    const sse = openSse(req, reply);
    const pending: LandEvent[] = [];
    let replaying = true;
    const deliver = (e: LandEvent): void => {
      if (e.id <= last) return;
      last = e.id;
      sse.send({ id: e.id, event: e.type, data: JSON.stringify(e) });
    };
    // Subscribe before replaying so nothing falls between the two.
    const unsubscribe = land.subscribe((e) => (replaying ? pending.push(e) : deliver(e)));
    sse.onClose(unsubscribe);
    for (;;) {
      const batch = land.eventsSince(last);
      for (const e of batch) deliver(e);
      if (batch.length < 10_000 || sse.closed) break;
    }
    replaying = false;
    for (const e of pending) deliver(e);
  });
}
