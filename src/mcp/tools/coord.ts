import { z } from 'zod';
import type { CoordService } from '../../coord/service.js';
import { defineTool, type ToolDef } from '../tool.js';

const runId = z.string().min(1).max(200).describe('your run id (COLONY_RUN_ID in a Colony job)');
const ttl = z.number().min(1).max(86_400).optional().describe('seconds until expiry, 1 to 86400 (default 600)');
const symbols = z
  .array(z.string().min(1).max(1024))
  .min(1)
  .max(1000)
  .describe("files (`src/a.ts`), symbols (`src/a.ts::Foo`) or globs (`drivers/net/**`)");

/** The coordination tools, the same on every MCP transport and as JSON over HTTP. */
export function coordTools(coord: CoordService): ToolDef[] {
  return [
    defineTool({
      name: 'coord_reserve',
      description:
        'Reserve files or symbols before editing them. Returns {granted:true, reservation_id, expires_at} or {granted:false, conflicts} naming who holds what.',
      input: z.object({ run_id: runId, symbols, ttl_seconds: ttl, mode: z.enum(['exclusive', 'shared']).optional() }).strict(),
      handler: (a) => coord.reserve(a),
    }),
    defineTool({
      name: 'coord_release',
      description: 'Release one of your reservations.',
      input: z.object({ run_id: runId, reservation_id: z.string().min(1).max(100) }).strict(),
      handler: (a) => coord.release(a),
    }),
    defineTool({
      name: 'coord_heartbeat',
      description: 'Extend every reservation and task claim of your run.',
      input: z.object({ run_id: runId, ttl_seconds: ttl }).strict(),
      handler: (a) => coord.heartbeat(a),
    }),
    defineTool({
      name: 'coord_intent',
      description: 'Declare what you will do to a target inside one of your reservations.',
      input: z
        .object({
          run_id: runId,
          reservation_id: z.string().min(1).max(100),
          operation: z.enum(['create', 'modify', 'delete', 'rename']),
          target: z.string().min(1).max(1024),
        })
        .strict(),
      handler: (a) => coord.intent(a),
    }),
    defineTool({
      name: 'coord_status',
      description: 'Active reservations, of one run or of everyone.',
      input: z.object({ run_id: runId.optional() }).strict(),
      handler: (a) => coord.status(a),
    }),
    defineTool({
      name: 'coord_check',
      description: 'Who holds any of these files or symbols right now.',
      input: z.object({ symbols }).strict(),
      handler: (a) => coord.check(a),
    }),
    defineTool({
      name: 'task_create',
      description: 'Create a task others can claim; optionally after other tasks, naming the files or symbols it will touch (reserve).',
      input: z
        .object({
          run_id: runId,
          description: z.string().min(1).max(10_000),
          priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
          depends_on: z.array(z.string().min(1).max(100)).max(1000).optional(),
          reserve: z.array(z.string().min(1).max(1024)).max(100).optional().describe('files, symbols or globs the task will touch (a swarm reserves them for its job)'),
        })
        .strict(),
      handler: (a) => coord.taskCreate(a),
    }),
    defineTool({
      name: 'task_claim',
      description: 'Claim a task atomically: {claimed:true, expires_at} or {claimed:false, holder}.',
      input: z.object({ run_id: runId, task_id: z.string().min(1).max(100), ttl_seconds: ttl }).strict(),
      handler: (a) => coord.taskClaim(a),
    }),
    defineTool({
      name: 'task_complete',
      description: 'Mark a task you hold as done.',
      input: z.object({ run_id: runId, task_id: z.string().min(1).max(100) }).strict(),
      handler: (a) => coord.taskComplete(a),
    }),
    defineTool({
      name: 'task_ready',
      description: 'Tasks ready to claim: dependencies complete, no live claim; by priority, then age.',
      input: z.object({ limit: z.number().int().min(1).max(1000).optional() }).strict(),
      handler: (a) => coord.taskReady(a),
    }),
    defineTool({
      name: 'task_depend',
      description: 'Make a task wait for other tasks.',
      input: z.object({ task_id: z.string().min(1).max(100), depends_on: z.array(z.string().min(1).max(100)).min(1).max(1000) }).strict(),
      handler: (a) => coord.taskDepend(a),
    }),
  ];
}
