import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { COLONY_BIN, TEST_TOKEN, daemonInfo, fakeAgents, spawnDaemon, waitUntil, writeColonyConfig, stopProcess } from '../helpers/daemon.js';
import { makeTempRepo } from '../helpers/repo.js';

let repo: { dir: string; cleanup: () => void };
let daemon: { child: ChildProcess; url: string };

beforeAll(async () => {
  repo = makeTempRepo();
  writeColonyConfig(repo.dir, { agents: fakeAgents() });
  daemon = await spawnDaemon(repo.dir);
});
afterAll(async () => {
  await stopProcess(daemon.child);
  repo.cleanup();
});

const COORD_TOOLS = ['coord_reserve', 'coord_release', 'coord_heartbeat', 'coord_intent', 'coord_status', 'coord_check', 'task_create', 'task_claim', 'task_complete', 'task_ready', 'task_depend'];

async function exercise(client: Client, run: string): Promise<void> {
  const names = (await client.listTools()).tools.map((t) => t.name);
  expect(names).toEqual(expect.arrayContaining(COORD_TOOLS));
  const r = await client.callTool({ name: 'coord_reserve', arguments: { run_id: run, symbols: [`${run}.ts::Foo`] } });
  expect(r.structuredContent).toMatchObject({ granted: true });
  const other = await client.callTool({ name: 'coord_reserve', arguments: { run_id: `${run}-other`, symbols: [`${run}.ts`] } });
  expect(other.structuredContent).toMatchObject({ granted: false, conflicts: [{ run_id: run }] });
  expect(JSON.parse((other.content as any)[0].text)).toEqual(other.structuredContent);
  const bad = await client.callTool({ name: 'coord_release', arguments: { run_id: run, reservation_id: 'res_nope' } });
  expect(bad).toMatchObject({ isError: true, content: [{ text: 'no reservation res_nope' }] });
  await expect(client.callTool({ name: 'coord_reserve', arguments: { run_id: run, symbols: 'not-a-list' } })).rejects.toThrow(/symbols/);
}

describe('MCP clients (official SDK)', () => {
  it('over the `colony mcp` stdio bridge, as `claude mcp add colony -- colony mcp` runs it', async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [COLONY_BIN, 'mcp', '--repo', repo.dir], stderr: 'pipe' });
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(transport);
    await exercise(client, 'stdio-run');
    await client.close();
  });

  it('over Streamable HTTP at /mcp with the bearer token, and 401 without', async () => {
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${daemon.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${TEST_TOKEN}` } } }),
    );
    await exercise(client, 'http-run');
    await client.close();
    const anon = new Client({ name: 'test', version: '1.0.0' });
    await expect(anon.connect(new StreamableHTTPClientTransport(new URL(`${daemon.url}/mcp`)))).rejects.toThrow();
  });

  it('the stdio bridge starts a daemon when none runs for the repository', async () => {
    const other = makeTempRepo();
    try {
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [COLONY_BIN, 'mcp', '--repo', other.dir],
        env: { ...process.env, COLONY_PORT: '0', COLONY_TOKEN: TEST_TOKEN } as Record<string, string>,
        stderr: 'pipe',
      });
      const client = new Client({ name: 'test', version: '1.0.0' });
      await client.connect(transport);
      expect((await client.callTool({ name: 'task_ready', arguments: {} })).structuredContent).toEqual({ tasks: [] });
      await client.close();
      const info = (await waitUntil(() => daemonInfo(other.dir), 5000, 'daemon info'))!;
      process.kill(info.pid, 'SIGTERM');
      await waitUntil(() => !daemonInfo(other.dir), 10_000, 'started daemon to stop');
    } finally {
      other.cleanup();
    }
  });
});
