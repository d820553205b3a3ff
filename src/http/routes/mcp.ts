import type { FastifyInstance } from 'fastify';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, InitializeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Dispatcher, RpcError, rpcIdProblem } from '../../mcp/dispatcher.js';
import type { AppDeps } from '../deps.js';

/**
 * MCP Streamable HTTP at /mcp, stateless: each POST gets a fresh SDK server whose handlers
 * delegate to the same dispatcher as the unix socket, so every transport answers alike.
 */
export function mcpRoutes(app: FastifyInstance, deps: AppDeps): void {
  const dispatcher = new Dispatcher(deps.tools);
  const viaDispatcher = async (method: string, params: unknown, signal: AbortSignal): Promise<any> => {
    const res = await dispatcher.handle({ jsonrpc: '2.0', id: 0, method, params }, { signal });
    if (res?.error) throw Object.assign(new Error(res.error.message), { code: res.error.code, data: res.error.data });
    return res?.result;
  };

  app.post('/mcp', async (req, reply) => {
    // The same id rule, and the same refusal, as on the unix socket.
    const messages = Array.isArray(req.body) ? req.body : [req.body];
    for (const m of messages) {
      const problem = m && typeof m === 'object' ? rpcIdProblem(m) : undefined;
      if (problem) return reply.code(400).send({ jsonrpc: '2.0', id: null, error: { code: RpcError.INVALID_REQUEST, message: problem } });
    }
    const server = new Server({ name: 'colony', version: deps.version }, { capabilities: { tools: { listChanged: false } } });
    server.setRequestHandler(InitializeRequestSchema, (r, extra) => viaDispatcher('initialize', r.params, extra.signal));
    server.setRequestHandler(ListToolsRequestSchema, (r, extra) => viaDispatcher('tools/list', r.params, extra.signal));
    server.setRequestHandler(CallToolRequestSchema, (r, extra) => viaDispatcher('tools/call', r.params, extra.signal));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.hijack();
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req.raw, reply.raw, req.body);
  });
  const notAllowed = async (_req: unknown, reply: any) =>
    reply.code(405).header('allow', 'POST').send({ error: { code: 'method_not_allowed', message: 'this MCP endpoint is stateless: POST only' } });
  app.get('/mcp', notAllowed);
  app.delete('/mcp', notAllowed);
}
