import type { z } from 'zod';

/** Who is calling a tool, as far as the transport knows. */
export interface ToolCallContext {
  /** Aborted when the caller goes away (socket closed, HTTP request aborted). */
  signal?: AbortSignal;
  /**
   * What the connection said about itself (`colony/session`): the stdio bridge a job's
   * agent spawns announces the job's run, so memories it stores record their run.
   */
  session?: { runId?: string };
}

/**
 * One MCP tool: a name, a zod object schema for its arguments and a domain call.
 * The same definition serves the unix socket, the stdio bridge, `/mcp` and the JSON HTTP
 * routes, so the contract lives in one place.
 */
export interface ToolDef<S extends z.ZodTypeAny = z.ZodTypeAny> {
  name: string;
  description: string;
  input: S;
  handler: (args: z.infer<S>, ctx: ToolCallContext) => unknown | Promise<unknown>;
}

/**
 * Type the handler's arguments from the schema, then erase the schema type so tools of
 * different shapes share one list (the registry validates with the schema before calling).
 */
export function defineTool<S extends z.ZodTypeAny>(def: ToolDef<S>): ToolDef {
  return def as unknown as ToolDef;
}
