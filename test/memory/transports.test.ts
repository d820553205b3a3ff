import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { colony as run } from '../helpers/cli.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { COLONY_BIN, api, daemonInfo, spawnDaemon, stopProcess } from '../helpers/daemon.js';
import { RpcClient } from '../../bench/rpc-client.js';
import { makeTempRepo, tempDir } from '../helpers/repo.js';


const colony = (args: string[], cwd: string, input?: string) => run(args, cwd, { input });

let repo: { dir: string; cleanup: () => void };
let daemon: { child: ChildProcess; url: string };
beforeAll(async () => {
  repo = makeTempRepo();
  daemon = await spawnDaemon(repo.dir, [], { COLONY_TOKEN: '' });
});
afterAll(async () => {
  await stopProcess(daemon.child);
  repo.cleanup();
});

describe('memory over every transport', () => {
  it('raw socket: store, recall, forget as direct methods and via tools/call', async () => {
    const c = await RpcClient.connect((daemonInfo(repo.dir) as unknown as { socket: string }).socket);
    const { id } = await c.call('memory_store', { text: 'The staging database is reset every night at 02:00 UTC.', tags: ['ops'] });
    const r = await c.call('memory_recall', { cue: 'when is staging reset', budget_tokens: 200 });
    expect(r.memories[0]).toMatchObject({ id, tags: ['ops'] });
    const viaTool = await c.call('tools/call', { name: 'memory_recall', arguments: { cue: 'staging database', budget_tokens: 50 } });
    expect(viaTool.structuredContent.memories[0].id).toBe(id);
    const bad = await c.request('memory_recall', { cue: 'x', budget_tokens: -1 });
    expect(bad.error).toMatchObject({ code: -32602, message: expect.stringMatching(/budget_tokens/) });
    expect(await c.call('memory_forget', { id })).toEqual({ forgotten: true });
    c.close();
  });

  it('MCP SDK client through `colony mcp`, and JSON over HTTP', async () => {
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [COLONY_BIN, 'mcp', '--repo', repo.dir], stderr: 'pipe' }));
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['memory_store', 'memory_recall', 'memory_forget', 'memory_list', 'memory_stats']));
    const stored = await client.callTool({ name: 'memory_store', arguments: { text: 'Use pnpm, not npm, in the web/ package.' } });
    const recalled = await client.callTool({ name: 'memory_recall', arguments: { cue: 'which package manager for web', budget_tokens: 100 } });
    expect((recalled.structuredContent as any).memories[0].id).toBe((stored.structuredContent as any).id);
    await client.close();
    const token = (await import('node:fs')).readFileSync(join(repo.dir, '.colony', 'token'), 'utf8').trim();
    const http = await api(daemon.url, 'POST', '/memory/recall', { cue: 'pnpm', budget_tokens: 100 }, token);
    expect(http.body.memories[0].text).toMatch(/pnpm/);
    expect((await api(daemon.url, 'POST', '/memory/recall', { cue: 'pnpm' }, token)).status).toBe(400);
  });

  it('CLI: add, recall, ls, stats, export and import', async () => {
    const dir = repo.dir;
    const add = JSON.parse((await colony(['memory', 'add', 'Release notes go in CHANGELOG.md under Unreleased.', '--tag', 'docs', '--json'], dir)).stdout);
    expect(add.id).toMatch(/^mem_/);
    const rec = await colony(['memory', 'recall', 'where do release notes go', '--budget', '100'], dir);
    expect(rec.stdout).toMatch(/CHANGELOG\.md/);
    expect(JSON.parse((await colony(['memory', 'stats', '--json'], dir)).stdout).memories).toBeGreaterThanOrEqual(2);
    expect((await colony(['memory', 'stats', '--wait'], dir)).stdout).toMatch(/memories, \d+ tokens; embedder lexical-256: all embedded\nSCOPE/);
    const exported = (await colony(['memory', 'export'], dir)).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(exported.some((m) => m.text.startsWith('Release notes'))).toBe(true);
    const other = makeTempRepo();
    const t = tempDir();
    try {
      const d2 = await spawnDaemon(other.dir, [], { COLONY_TOKEN: '' });
      try {
        writeFileSync(join(t.dir, 'mem.jsonl'), exported.map((m) => JSON.stringify(m)).join('\n') + '\n');
        expect(JSON.parse((await colony(['memory', 'import', join(t.dir, 'mem.jsonl'), '--json'], other.dir)).stdout)).toEqual({ stored: exported.length });
        const viaStdin = await colony(['memory', 'import', '-', '--json'], other.dir, '{"text": "from stdin"}\n');
        expect(JSON.parse(viaStdin.stdout)).toEqual({ stored: 1 });
        const broken = await colony(['memory', 'import', '-'], other.dir, '{"text": "ok"}\nnot json\n');
        expect(broken.stderr).toMatch(/-:2: not valid JSON/);
        const ls = JSON.parse((await colony(['memory', 'ls', '--json'], other.dir)).stdout);
        expect(ls.memories.length).toBe(exported.length + 1);
      } finally {
        await stopProcess(d2.child);
      }
    } finally {
      other.cleanup();
      t.cleanup();
    }
  });
});
