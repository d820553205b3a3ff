import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../../lib/validate.js';
import { RECORD_KINDS } from '../../coord/wire.js';
import type { AppDeps } from '../deps.js';

const runId = z.string().min(1).max(200);
const id = z.string().min(1).max(200);

/** `<created_at>.<record_id>`: where the previous page of records ended. */
const cursor = z
  .string()
  .regex(/^\d{1,16}\.[0-9a-f]{64}$/, 'a cursor from the previous page (next_cursor)')
  .transform((c) => {
    const dot = c.indexOf('.');
    return { created_at: Number(c.slice(0, dot)), record_id: c.slice(dot + 1) };
  });

const recordsQuery = z
  .object({
    kinds: z
      .string()
      .optional()
      .transform((s) => (s ? s.split(',').filter(Boolean) : [...RECORD_KINDS]))
      .pipe(z.array(z.enum(RECORD_KINDS)).min(1)),
    limit: z.coerce.number().int().min(1).max(10_000).default(1000),
    after: cursor.optional(),
  })
  .strict();

/**
 * Coordination over JSON beyond the MCP tools (those are routed by tools.ts:
 * `POST /coord/reserve`, `POST /tasks/claim`, …): reads for the CLI and the dashboard,
 * reservation dependencies, gc and abandoning a claim.
 */
export function coordRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { coord } = deps;
  app.get('/coord/status', async (req) => coord.status(parseInput(z.object({ run_id: runId.optional() }).strict(), req.query)));
  // Paged, so a large log never holds the event loop in one answer.
  app.get('/coord/records', async (req) => {
    const q = parseInput(recordsQuery, req.query);
    const records = coord.gatherRecords(q.kinds, { after: q.after, limit: q.limit });
    const last = records.length === q.limit ? records[records.length - 1] : undefined;
    return { records, next_cursor: last ? `${last.created_at}.${last.record_id}` : null };
  });
  app.post('/coord/depend', async (req) =>
    coord.depend(parseInput(z.object({ reservation_id: id, depends_on: z.array(id).max(1000) }).strict(), req.body ?? {})),
  );
  app.post('/coord/gc', async (req) => {
    const body = parseInput(
      z.object({ dry_run: z.boolean().default(false), grace_seconds: z.number().min(0).max(365 * 86400).default(0) }).strict(),
      req.body ?? {},
    );
    return coord.gc({ dryRun: body.dry_run, graceSeconds: body.grace_seconds });
  });
  app.get('/tasks', async (req) => coord.taskList(parseInput(z.object({ limit: z.coerce.number().int().min(1).max(10_000).optional() }).strict(), req.query)));
  app.get('/tasks/ready', async (req) => coord.taskReady(parseInput(z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }).strict(), req.query)));
  app.post('/tasks/abandon', async (req) => coord.taskAbandon(parseInput(z.object({ run_id: runId, task_id: id }).strict(), req.body ?? {})));
}
