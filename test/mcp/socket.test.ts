import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { startSocketServer, MAX_LINE_BYTES, type SocketServer } from '../../src/mcp/socket-server.js';
import { buildToolMap } from '../../src/mcp/registry.js';
import { defineTool } from '../../src/mcp/tool.js';
import { NotFoundError } from '../../src/lib/errors.js';
import { silentLogger } from '../../src/lib/log.js';
import { RpcClient } from '../../bench/rpc-client.js';
import { tempDir } from '../helpers/repo.js';

let server: SocketServer;
let cleanup: () => void;
const aborted: string[] = [];

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const tools = buildToolMap([
    defineTool({ name: 'echo', description: 'echo', input: z.object({ text: z.string() }).strict(), handler: (a) => ({ text: a.text }) }),
    defineTool({
      name: 'slow',
      description: 'waits, honouring the abort signal',
      input: z.object({ ms: z.number().int().min(0).max(10_000), tag: z.string() }),
      handler: (a, ctx) =>
        new Promise((resolve) => {
          const timer = setTimeout(() => resolve({ tag: a.tag }), a.ms);
          ctx.signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            aborted.push(a.tag);
            resolve({ tag: a.tag });
          });
        }),
    }),
    defineTool({ name: 'missing', description: 'always not found', input: z.object({}), handler: () => { throw new NotFoundError('nothing here'); } }),
  ]);
  server = await startSocketServer({ path: join(t.dir, 'colony.sock'), tools, logger: silentLogger() });
});
afterAll(async () => {
  await server.close();
  cleanup();
});

describe('unix socket JSON-RPC server', () => {
  it('creates the socket with mode 0600', () => {
    expect(statSync(server.path).mode & 0o777).toBe(0o600);
  });

  it('speaks MCP: initialize, tools/list, tools/call, and direct methods', async () => {
    const c = await RpcClient.connect(server.path);
    const init = await c.call('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } });
    expect(init).toMatchObject({ protocolVersion: '2025-06-18', serverInfo: { name: 'colony' }, capabilities: { tools: {} } });
    const list = await c.call('tools/list');
    expect(list.tools.map((t: any) => t.name)).toEqual(['echo', 'slow', 'missing']);
    expect(list.tools[0].inputSchema).toMatchObject({ type: 'object', properties: { text: { type: 'string' } }, required: ['text'] });
    expect(await c.call('tools/call', { name: 'echo', arguments: { text: 'hi' } })).toEqual({
      content: [{ type: 'text', text: '{"text":"hi"}' }],
      structuredContent: { text: 'hi' },
    });
    expect(await c.call('echo', { text: 'direct' })).toEqual({ text: 'direct' });
    // A domain refusal: isError over MCP, an error with the message on a direct call.
    expect(await c.call('tools/call', { name: 'missing', arguments: {} })).toMatchObject({ isError: true, content: [{ text: 'nothing here' }] });
    await expect(c.call('missing', {})).rejects.toMatchObject({ code: -32602, message: 'nothing here' });
    c.close();
  });

  it('answers pipelined requests by id as each finishes', async () => {
    const c = await RpcClient.connect(server.path);
    const order: string[] = [];
    const reqs = [
      c.request('slow', { ms: 300, tag: 'slow' }, 'a').then((r) => order.push(r.id)),
      c.request('echo', { text: 'x' }, 'b').then((r) => order.push(r.id)),
      c.request('slow', { ms: 0, tag: 'quick' }, 'c').then((r) => order.push(r.id)),
    ];
    await Promise.all(reqs);
    expect(order.indexOf('a')).toBe(2);
    expect(order.sort()).toEqual(['a', 'b', 'c']);
    c.close();
  });

  it('never makes one connection wait for another connection’s work', async () => {
    const a = await RpcClient.connect(server.path);
    const b = await RpcClient.connect(server.path);
    let slowDone = false;
    const slow = a.call('slow', { ms: 500, tag: 'hol' }).then(() => (slowDone = true));
    const quick = await b.call('echo', { text: 'quick' });
    expect(quick).toEqual({ text: 'quick' });
    expect(slowDone).toBe(false);
    await slow;
    a.close();
    b.close();
  });

  it('reports bad input and keeps the connection usable', async () => {
    const c = await RpcClient.connect(server.path);
    c.writeRaw('{this is not json\n');
    expect((await c.nextUnsolicited()).error).toMatchObject({ code: -32700 });
    expect((await c.request('no_such_method', {})).error.code).toBe(-32601);
    const bad = await c.request('echo', { text: 42 });
    expect(bad.error.code).toBe(-32602);
    expect(bad.error.message).toMatch(/text/);
    expect((await c.request('tools/call', { name: 'echo', arguments: { nope: 1 } })).error.code).toBe(-32602);
    c.writeRaw('{"id": 5, "method": "echo"}\n');
    expect((await c.nextUnsolicited()).error ?? {}).toBeDefined();
    expect(await c.call('echo', { text: 'still here' })).toEqual({ text: 'still here' });
    c.close();
  });

  it('refuses lines over 1 MiB without dropping the connection', async () => {
    const c = await RpcClient.connect(server.path);
    const huge = JSON.stringify({ jsonrpc: '2.0', id: 'big', method: 'echo', params: { text: 'x'.repeat(MAX_LINE_BYTES + 10) } });
    // Sent in pieces, as a real client's writes arrive.
    for (let i = 0; i < huge.length; i += 64 * 1024) c.writeRaw(huge.slice(i, i + 64 * 1024));
    c.writeRaw('\n');
    expect((await c.nextUnsolicited()).error.message).toMatch(/longer than/);
    expect(await c.call('echo', { text: 'after' })).toEqual({ text: 'after' });
    c.close();
  });

  it('aborts the call of a client that disconnects mid-call, and keeps serving', async () => {
    const c = await RpcClient.connect(server.path);
    void c.request('slow', { ms: 5000, tag: 'gone' });
    await new Promise((r) => setTimeout(r, 100));
    c.close();
    for (let i = 0; i < 100 && !aborted.includes('gone'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(aborted).toContain('gone');
    const d = await RpcClient.connect(server.path);
    expect(await d.call('echo', { text: 'ok' })).toEqual({ text: 'ok' });
    d.close();
  });

  it('serves 1,000 clients connecting at once', async () => {
    const clients = await Promise.all(Array.from({ length: 1000 }, () => RpcClient.connect(server.path)));
    const results = await Promise.all(clients.map((c, i) => c.call('echo', { text: String(i) })));
    expect(results.map((r) => r.text)).toEqual(clients.map((_, i) => String(i)));
    clients.forEach((c) => c.close());
  });
});
