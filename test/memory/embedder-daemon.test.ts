import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { openDatabase, type Db } from '../../src/lib/sqlite.js';
import { colonyMigrations } from '../../src/daemon/migrations.js';
import { ManualClock } from '../../src/lib/clock.js';
import { MemoryService } from '../../src/memory/service.js';
import { Reembedder } from '../../src/memory/reembed.js';
import { createEmbedder } from '../../src/memory/embedders/index.js';
import { OpenAIEmbedder } from '../../src/memory/embedders/openai.js';
import { RpcClient } from '../../bench/rpc-client.js';
import { COLONY_BIN, api, startTestDaemon, waitUntil } from '../helpers/daemon.js';
import { EmbeddingsServer } from '../../bench/embeddings-server.js';
import { writeTinyBert } from '../helpers/tiny-bert.js';
import { makeTempRepo, tempDir } from '../helpers/repo.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const NOTES = Array.from({ length: 150 }, (_, i) => `note ${i}: the ${['build', 'deploy', 'cache', 'queue', 'auth'][i % 5]} step ${['fails', 'stalls', 'retries', 'warns'][i % 4]} on ${['monday', 'friday', 'release day'][i % 3]}`);

function repo(): string {
  const r = makeTempRepo();
  cleanups.push(r.cleanup);
  return r.dir;
}

/** A store holding these notes with lexical vectors, as before a switch. */
async function storedWithLexical(notes: string[]): Promise<{ t: { dir: string }; db: Db; clock: ManualClock }> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const db = openDatabase(join(t.dir, 'colony.db'), { migrations: colonyMigrations });
  cleanups.push(() => db.close());
  const clock = new ManualClock();
  await new MemoryService(db, clock).storeMany(notes.map((text) => ({ text })));
  return { t, db, clock };
}

describe('switching the embedder', () => {
  it('re-embeds every memory in the background with progress; recall works throughout', async () => {
    const { t, db, clock } = await storedWithLexical(NOTES);

    writeTinyBert(t.dir, 'test/tiny-bert', { hidden: 16 });
    const bert = await createEmbedder({ spec: 'transformers:test/tiny-bert', cacheDir: t.dir, modelDir: t.dir, allowRemoteModels: false, baseUrl: 'http://127.0.0.1:9/v1', batchSize: 16 });
    cleanups.push(() => bert.close?.());
    const memory = new MemoryService(db, clock, bert);
    expect(memory.stats().embedding).toEqual({ embedder: 'transformers:test/tiny-bert', current: 0, pending: 150 });
    // Before any re-embedding, full-text recall still finds the old memories.
    expect((await memory.recall({ cue: 'deploy stalls', budget_tokens: 1000 })).memories.length).toBeGreaterThan(0);

    const logs: string[] = [];
    const reembedder = new Reembedder(memory, { info: (m) => logs.push(m), warn: (m) => logs.push(`warn ${m}`) }, { batch: 40, reportMs: 0 });
    reembedder.start();
    await reembedder.idle();
    expect(memory.stats().embedding).toEqual({ embedder: 'transformers:test/tiny-bert', current: 150, pending: 0 });
    expect(logs[0]).toBe('re-embedding 150 memories with transformers:test/tiny-bert');
    expect(logs.filter((l) => l.includes('to go'))).toEqual([
      're-embedding with transformers:test/tiny-bert: 40 done, 110 to go (26%)',
      're-embedding with transformers:test/tiny-bert: 80 done, 70 to go (53%)',
      're-embedding with transformers:test/tiny-bert: 120 done, 30 to go (80%)',
      're-embedding with transformers:test/tiny-bert: 150 done, 0 to go (100%)',
    ]);
    expect(logs.at(-1)).toMatch(/^re-embedded 150 memories with transformers:test\/tiny-bert in /);
    const [stored] = db.prepare('SELECT DISTINCT embedder, length(vector) AS bytes FROM memories').all() as { embedder: string; bytes: number }[];
    expect(stored).toEqual({ embedder: 'transformers:test/tiny-bert', bytes: 16 * 4 });
    // Nearest neighbours now join the candidates: a cue sharing no word still recalls something.
    const r = await memory.recall({ cue: 'zzzz qqqq', budget_tokens: 10_000, k: 5 });
    expect(r.memories).toHaveLength(5);
    // New stores get the new vectors straight away.
    await memory.store({ text: 'a fresh note after the switch' });
    expect(memory.stats().embedding.pending).toBe(0);
  });

  it('waits out an embedder that fails, showing why in stats, and finishes once it recovers', async () => {
    const { db, clock } = await storedWithLexical(NOTES.slice(0, 30));
    const server = await EmbeddingsServer.start();
    cleanups.push(() => server.close());
    server.failures.push({ status: 400 }, { status: 400 });
    const memory = new MemoryService(db, clock, new OpenAIEmbedder('flaky', { baseUrl: server.baseUrl, batchSize: 64 }));
    const logs: string[] = [];
    const reembedder = new Reembedder(memory, { info: (m) => logs.push(m), warn: (m) => logs.push(`warn ${m}`) }, { retryMs: 300 });
    reembedder.start();
    await waitUntil(() => memory.stats().embedding.error, 5000, 'the failure to show');
    expect(memory.stats().embedding).toMatchObject({ pending: 30, error: expect.stringMatching(/HTTP 400/) });
    await reembedder.idle();
    expect(memory.stats().embedding).toEqual({ embedder: 'openai:flaky', current: 30, pending: 0 });
    expect(logs.filter((l) => l.startsWith('warn'))).toHaveLength(2);
  });

  it('a daemon started with another embedder re-embeds what the last one stored', async () => {
    const dir = repo();
    const first = await startTestDaemon(dir);
    const imported = await api(first.url, 'POST', '/memory/import', { memories: NOTES.map((text) => ({ text })) });
    expect(imported.body).toEqual({ stored: 150 });
    await first.close();

    writeTinyBert(join(dir, '.colony'), 'models/tiny-bert', { hidden: 16 });
    const second = await startTestDaemon(dir, { embedder: 'transformers:models/tiny-bert', embed_model_dir: join(dir, '.colony') });
    cleanups.push(() => second.close());
    const stats = await waitUntil(async () => {
      const s = (await api(second.url, 'POST', '/memory/stats', {})).body;
      return s.embedding.pending === 0 ? s : undefined;
    }, 30_000, 're-embedding');
    expect(stats).toMatchObject({ memories: 150, embedder: 'transformers:models/tiny-bert', embedding: { current: 150, pending: 0 } });
    const recalled = await api(second.url, 'POST', '/memory/recall', { cue: 'why does the deploy step stall', budget_tokens: 200 });
    expect(recalled.body.memories[0].text).toMatch(/deploy step stalls/);
  });

  it('refuses to start with an unknown embedder, naming it', async () => {
    await expect(startTestDaemon(repo(), { embedder: 'word2vec' })).rejects.toThrow(/embedder: 'word2vec' is not one of lexical, glove, transformers:<model>, openai:<model>/);
  });
});

describe('an OpenAI-compatible embedding endpoint behind the daemon', () => {
  it('embeds stores and cues on the workers; a slow embedding never holds up another connection', async () => {
    const server = await EmbeddingsServer.start();
    cleanups.push(() => server.close());
    const daemon = await startTestDaemon(repo(), { embedder: 'openai:test-embed', embed_base_url: server.baseUrl, embed_api_key: 'sk-local' });
    cleanups.push(() => daemon.close());
    const a = await RpcClient.connect(daemon.socket.path);
    const b = await RpcClient.connect(daemon.socket.path);
    cleanups.push(() => a.close(), () => b.close());
    const { id } = await a.call('memory_store', { text: 'The nightly job rotates the signing keys.' });
    const r = await a.call('memory_recall', { cue: 'signing keys rotation', budget_tokens: 100 });
    expect(r.memories.map((m: { id: string }) => m.id)).toEqual([id]);
    expect(server.requests.some((q) => q.input.includes('signing keys rotation'))).toBe(true);
    expect(server.requests.every((q) => q.authorization === 'Bearer sk-local')).toBe(true);

    server.delayMs = 500;
    let slowDone = false;
    const slow = a.call('memory_store', { text: 'A second lesson, embedded slowly.' }).then(() => (slowDone = true));
    await waitUntil(() => server.requests.some((q) => q.input.includes('A second lesson, embedded slowly.')), 5000, 'the slow request');
    expect(await b.call('memory_list', { limit: 1 })).toMatchObject({ memories: [{ id }] });
    expect(await b.call('coord_status', {})).toBeDefined();
    expect(slowDone).toBe(false);
    await slow;
    expect(slowDone).toBe(true);

    // The endpoint refusing: the caller reads why, over the socket and over HTTP, and nothing is stored.
    server.delayMs = 0;
    // (One failure queued per call: a retried network hiccup must meet it too.)
    server.failures.push({ status: 401 });
    const refused = await b.request('memory_store', { text: 'never stored' });
    expect(refused.error).toMatchObject({ code: -32602, message: expect.stringMatching(/openai:test-embed .*HTTP 401/), data: { code: 'embedder_failed' } });
    server.failures.push({ status: 401 });
    const http = await api(daemon.url, 'POST', '/memory/store', { text: 'never stored' });
    expect(http.status, `requests seen: ${JSON.stringify(server.requests.slice(-3))}`).toBe(503);
    expect(http.body.error.message).toMatch(/HTTP 401/);
    expect(daemon.memory.stats().memories).toBe(2);
  });
});

describe('memories record the run that stored them', () => {
  it('from the session a connection announces, and from COLONY_RUN_ID through the stdio bridge', async () => {
    const dir = repo();
    const daemon = await startTestDaemon(dir);
    cleanups.push(() => daemon.close());
    const c = await RpcClient.connect(daemon.socket.path);
    cleanups.push(() => c.close());
    expect(await c.call('colony/session', { run_id: 'job-on-socket' })).toEqual({ run_id: 'job-on-socket' });
    expect((await c.request('colony/session', { run_id: '' })).error.code).toBe(-32602);
    await c.call('memory_store', { text: 'stored by a job over the socket' });
    await c.call('memory_store', { text: 'stored with an explicit run', run_id: 'explicit' });

    const client = new Client({ name: 'agent', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({ command: process.execPath, args: [COLONY_BIN, 'mcp', '--repo', dir], env: { ...(process.env as Record<string, string>), COLONY_RUN_ID: 'job-via-bridge' }, stderr: 'pipe' }),
    );
    await client.callTool({ name: 'memory_store', arguments: { text: 'stored by an agent through the bridge' } });
    await client.close();

    const runs = Object.fromEntries(daemon.memory.list().memories.map((m) => [m.text, m.run_id]));
    expect(runs).toEqual({
      'stored by a job over the socket': 'job-on-socket',
      'stored with an explicit run': 'explicit',
      'stored by an agent through the bridge': 'job-via-bridge',
    });
  });
});
