import { afterEach, describe, expect, it } from 'vitest';
import { colony } from '../helpers/cli.js';
import { api, spawnDaemon, startTestDaemon, TEST_TOKEN, writeColonyConfig } from '../helpers/daemon.js';
import { makeTempRepo } from '../helpers/repo.js';
import { EmbeddingsServer } from '../../bench/embeddings-server.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('colony memory stats --wait --timeout', () => {
  it('gives up after the timeout with how far re-embedding got and why it is stalled', async () => {
    const repo = makeTempRepo();
    cleanups.push(repo.cleanup);
    const first = await startTestDaemon(repo.dir);
    const notes = Array.from({ length: 20 }, (_, i) => ({ text: `note ${i} about the deploy step` }));
    expect((await api(first.url, 'POST', '/memory/import', { memories: notes })).body).toEqual({ stored: 20 });
    await first.close();

    // The next daemon's embedder is a server that refuses every request.
    const server = await EmbeddingsServer.start();
    cleanups.push(() => server.close());
    server.failures.push(...Array.from({ length: 10_000 }, () => ({ status: 400 })));
    writeColonyConfig(repo.dir, { embedder: 'openai:flaky', embed_base_url: server.baseUrl });
    const d = await spawnDaemon(repo.dir, [], { COLONY_TOKEN: TEST_TOKEN });
    cleanups.push(() => d.stop());

    const r = await colony(['memory', 'stats', '--wait', '--timeout', '1'], repo.dir, { env: { COLONY_TOKEN: TEST_TOKEN } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^colony: still re-embedding after 1 s: 0 of 20 embedded \(stalled: .*400/);
    expect((await colony(['memory', 'stats', '--timeout', '1'], repo.dir, { env: { COLONY_TOKEN: TEST_TOKEN } })).stderr).toMatch(/--timeout goes with --wait/);
    expect((await colony(['memory', 'stats', '--wait', '--timeout', 'soon'], repo.dir, { env: { COLONY_TOKEN: TEST_TOKEN } })).stderr).toMatch(/--timeout must be a number of seconds/);
  });
});
