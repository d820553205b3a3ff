import type { FastifyInstance } from 'fastify';
import { ZodError } from 'zod';
import type { ToolDef } from '../../mcp/tool.js';
import type { AppDeps } from '../deps.js';

/**
 * Every MCP tool as JSON over HTTP: `coord_reserve` → `POST /coord/reserve`,
 * `task_claim` → `POST /tasks/claim`, `memory_recall` → `POST /memory/recall`. The body is
 * the tool's arguments and the answer its result, validated by the same schema.
 */
export function toolRoutes(app: FastifyInstance, deps: AppDeps): void {
  for (const tool of deps.tools.values()) {
    const [domain, ...rest] = tool.name.split('_');
    const prefix = domain === 'task' ? 'tasks' : domain;
    app.post(`/${prefix}/${rest.join('_')}`, async (req) => call(tool, req.body ?? {}));
  }
}

export async function call(tool: ToolDef, args: unknown): Promise<unknown> {
  const parsed = tool.input.safeParse(args);
  if (!parsed.success) throw new ZodError(parsed.error.issues);
  return tool.handler(parsed.data, {});
}
