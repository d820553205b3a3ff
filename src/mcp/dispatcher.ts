import { zodToJsonSchema } from 'zod-to-json-schema';
import { isColonyError } from '../lib/errors.js';
import { MAX_JSON_DEPTH, describeZodError, tooDeepAt } from '../lib/validate.js';
import { VERSION } from '../version.js';
import type { ToolCallContext, ToolDef } from './tool.js';

export const PROTOCOL_VERSION = '2025-06-18';
const SUPPORTED_PROTOCOLS = ['2025-06-18', '2025-03-26', '2024-11-05'];

/** JSON-RPC 2.0 error codes. */
export const RpcError = {
  PARSE: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
} as const;

/** Requests in one JSON-RPC batch, at most. */
export const MAX_BATCH = 1000;

/**
 * Why a message's id is unacceptable, or undefined: present ids must be strings (up to 200
 * characters) or safe integers. JSON-RPC 2.0 allows null and fractions but discourages them;
 * every Colony transport (socket, stdio bridge, /mcp) refuses them alike.
 */
export function rpcIdProblem(msg: object): string | undefined {
  if (!('id' in msg)) return undefined;
  const id = (msg as { id: unknown }).id;
  if (typeof id === 'string' && id.length <= 200) return undefined;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return undefined;
  return 'id: must be a string (up to 200 characters) or an integer; leave it out for a notification';
}

export interface RpcResponse {
  jsonrpc: '2.0';
  id: string | number | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/**
 * Answers MCP over JSON-RPC for one tool map: `initialize`, `tools/list`, `tools/call`,
 * `ping`, and — for light clients — every tool as a method of its own whose result is the
 * tool's plain object. Transport-free: the socket server and tests feed it messages.
 */
export class Dispatcher {
  private readonly listed: unknown[];

  constructor(private readonly tools: ReadonlyMap<string, ToolDef>) {
    this.listed = [...tools.values()].map((t) => {
      const { $schema: _drop, ...schema } = zodToJsonSchema(t.input, { target: 'jsonSchema7' }) as Record<string, unknown>;
      return { name: t.name, description: t.description, inputSchema: schema };
    });
  }

  /**
   * Handle one parsed message; undefined for notifications (no answer). A request's id must
   * be a string or an integer (the same rule on every transport, see rpcIdProblem).
   */
  async handle(msg: unknown, ctx: ToolCallContext = {}): Promise<RpcResponse | undefined> {
    if (!msg || typeof msg !== 'object' || Array.isArray(msg)) {
      return { jsonrpc: '2.0', id: null, error: { code: RpcError.INVALID_REQUEST, message: 'a request must be a JSON object' } };
    }
    const m = msg as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
    // Responses from a client (e.g. to our pings) carry no method: nothing to answer.
    if (m.jsonrpc === '2.0' && m.method === undefined && ('result' in m || 'error' in m)) return undefined;
    const hasId = 'id' in m;
    const idProblem = rpcIdProblem(m);
    if (idProblem) return { jsonrpc: '2.0', id: null, error: { code: RpcError.INVALID_REQUEST, message: idProblem } };
    const id = hasId ? (m.id as string | number) : null;
    if (m.jsonrpc !== '2.0' || typeof m.method !== 'string') {
      return { jsonrpc: '2.0', id, error: { code: RpcError.INVALID_REQUEST, message: 'invalid JSON-RPC 2.0 request (needs jsonrpc "2.0" and a method)' } };
    }
    if (hasId && m.method.startsWith('notifications/')) {
      return { jsonrpc: '2.0', id, error: { code: RpcError.INVALID_REQUEST, message: `${m.method} is a notification: send it without an id` } };
    }
    const deep = tooDeepAt(m.params, MAX_JSON_DEPTH);
    if (deep !== undefined) {
      if (!hasId) return undefined;
      return { jsonrpc: '2.0', id, error: { code: RpcError.INVALID_PARAMS, message: `params: nested deeper than ${MAX_JSON_DEPTH} levels`, data: { fields: ['params'] } } };
    }
    try {
      const result = await this.dispatch(m.method, m.params, ctx);
      return hasId ? { jsonrpc: '2.0', id, result: result ?? {} } : undefined;
    } catch (err) {
      if (!hasId) return undefined;
      if (err instanceof RpcFailure) return { jsonrpc: '2.0', id, error: { code: err.code, message: err.message, ...(err.data ? { data: err.data } : {}) } };
      return { jsonrpc: '2.0', id, error: { code: RpcError.INTERNAL, message: 'internal error' } };
    }
  }

  /** A JSON-RPC batch: one array of answers (none at all when every member was a notification). */
  async handleBatch(batch: unknown[], ctx: ToolCallContext = {}): Promise<RpcResponse | RpcResponse[] | undefined> {
    if (batch.length === 0) return { jsonrpc: '2.0', id: null, error: { code: RpcError.INVALID_REQUEST, message: 'empty batch' } };
    if (batch.length > MAX_BATCH) return { jsonrpc: '2.0', id: null, error: { code: RpcError.INVALID_REQUEST, message: `batch of ${batch.length} requests refused: at most ${MAX_BATCH}` } };
    const answers = (await Promise.all(batch.map((m) => this.handle(m, ctx)))).filter((a): a is RpcResponse => a !== undefined);
    return answers.length ? answers : undefined;
  }

  private async dispatch(method: string, params: unknown, ctx: ToolCallContext): Promise<unknown> {
    switch (method) {
      case 'initialize': {
        const requested = (params as { protocolVersion?: unknown } | undefined)?.protocolVersion;
        const protocolVersion = typeof requested === 'string' && SUPPORTED_PROTOCOLS.includes(requested) ? requested : PROTOCOL_VERSION;
        return {
          protocolVersion,
          capabilities: { tools: { listChanged: false } },
          serverInfo: { name: 'colony', version: VERSION },
          instructions: 'Colony: reserve code before editing (coord_*), split work into tasks (task_*), share memory (memory_*).',
        };
      }
      case 'ping':
        return {};
      case 'colony/session': {
        const runId = (params as { run_id?: unknown } | undefined)?.run_id;
        if (typeof runId !== 'string' || runId.length < 1 || runId.length > 200) throw new RpcFailure(RpcError.INVALID_PARAMS, 'invalid params: run_id: a string of 1–200 characters');
        if (!ctx.session) throw new RpcFailure(RpcError.METHOD_NOT_FOUND, 'colony/session: only on connections (the socket and the stdio bridge)');
        ctx.session.runId = runId;
        return { run_id: runId };
      }
      case 'tools/list':
        return { tools: this.listed };
      case 'tools/call': {
        const p = params as { name?: unknown; arguments?: unknown } | undefined;
        if (!p || typeof p.name !== 'string') throw new RpcFailure(RpcError.INVALID_PARAMS, 'params.name: required');
        const tool = this.tools.get(p.name);
        if (!tool) throw new RpcFailure(RpcError.INVALID_PARAMS, `unknown tool '${p.name}'`);
        const args = this.validate(tool, p.arguments ?? {});
        try {
          const result = await tool.handler(args, ctx);
          return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
        } catch (err) {
          // A domain refusal is a tool result the model can read, not a protocol error.
          if (isColonyError(err)) return { content: [{ type: 'text', text: err.message }], isError: true };
          throw err;
        }
      }
      default: {
        if (method.startsWith('notifications/')) return undefined;
        const tool = this.tools.get(method);
        if (!tool) throw new RpcFailure(RpcError.METHOD_NOT_FOUND, `method not found: ${method}`);
        const args = this.validate(tool, params ?? {});
        try {
          return await tool.handler(args, ctx);
        } catch (err) {
          if (isColonyError(err)) throw new RpcFailure(RpcError.INVALID_PARAMS, err.message, { code: err.code });
          throw err;
        }
      }
    }
  }

  private validate(tool: ToolDef, args: unknown): unknown {
    const r = tool.input.safeParse(args);
    if (!r.success) {
      throw new RpcFailure(RpcError.INVALID_PARAMS, `invalid params: ${describeZodError(r.error)}`, {
        fields: r.error.issues.map((i) => i.path.join('.')),
      });
    }
    return r.data;
  }
}
