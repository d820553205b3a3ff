import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../../lib/validate.js';
import { swarmRequestSchema, TERMINAL_SWARM_STATUSES, type SwarmView } from '../../swarm/index.js';
import type { AppDeps } from '../deps.js';
import { openSse } from '../sse.js';

const idParams = z.object({ id: z.string().min(1).max(100) }).strict();
const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(50),
    // The previous page's next_cursor.
    cursor: z.string().max(40).optional(),
  })
  .strict();

/** Swarm runs: start, list, show, cancel, and follow one as it changes. */
export function swarmRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { swarms } = deps;

  app.post('/swarms', async (req, reply) => {
    const v = swarms.create(parseInput(swarmRequestSchema, req.body ?? {}));
    return reply.code(202).send({ swarm_id: v.swarm_id, status: v.status });
  });

  app.get('/swarms', async (req) => swarms.list(parseInput(listQuery, req.query)));

  app.get('/swarms/:id', async (req) => swarms.get(parseInput(idParams, req.params).id));

  app.post('/swarms/:id/cancel', async (req) => swarms.cancel(parseInput(idParams, req.params).id));

  // The whole view at connect and on every change; the stream ends once the swarm has ended.
  app.get('/swarms/:id/events', async (req, reply) => {
    const { id } = parseInput(idParams, req.params);
    const first = swarms.get(id);
    const sse = openSse(req, reply);
    const send = (v: SwarmView): void => {
      sse.send({ event: 'swarm', data: JSON.stringify(v) });
      if (TERMINAL_SWARM_STATUSES.has(v.status)) sse.close();
    };
    const unsubscribe = swarms.subscribe((v) => {
      if (v.swarm_id === id) send(v);
    });
    sse.onClose(unsubscribe);
    send(first);
  });
}
