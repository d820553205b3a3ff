import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../../lib/validate.js';
import { RECORD_KINDS } from '../../coord/wire.js';
import type { CoordService } from '../../coord/service.js';
import type { AppDeps } from '../deps.js';

const kindsQuery = z.object({
  kinds: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',').filter(Boolean) : [...RECORD_KINDS]))
    .pipe(z.array(z.enum(RECORD_KINDS))),
});

/** Coordination reads and the operations that are not MCP tools (gc, abandon, task list). */
export function coordRoutes(app: FastifyInstance, deps: AppDeps & { coord: CoordService }): void {
  const { coord } = deps;
  app.get('/coord/status', async (req) => coord.status(parseInput(z.object({ run_id: z.string().min(1).max(200).optional() }), req.query)));
  app.get('/coord/records', async (req) => ({ records: coord.gatherRecords(parseInput(kindsQuery, req.query).kinds) }));
  app.post('/coord/gc', async (req) => {
    const body = parseInput(
      z.object({ dry_run: z.boolean().default(false), grace_seconds: z.number().min(0).max(365 * 86400).default(0) }).strict(),
      req.body ?? {},
    );
    return coord.gc({ dryRun: body.dry_run, graceSeconds: body.grace_seconds });
  });
  app.get('/tasks', async (req) => coord.taskList(parseInput(z.object({ limit: z.coerce.number().int().min(1).max(10_000).optional() }), req.query)));
  app.get('/tasks/ready', async (req) => coord.taskReady(parseInput(z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }), req.query)));
  app.post('/tasks/abandon', async (req) =>
    coord.taskAbandon(parseInput(z.object({ run_id: z.string().min(1).max(200), task_id: z.string().min(1).max(100) }).strict(), req.body ?? {})),
  );
}
