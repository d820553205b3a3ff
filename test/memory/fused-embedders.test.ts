import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase } from '../../src/lib/sqlite.js';
import { colonyMigrations } from '../../src/daemon/migrations.js';
import { ManualClock } from '../../src/lib/clock.js';
import { MemoryService, type RecallResult } from '../../src/memory/service.js';
import { cosine, createEmbedder, type Embedder, type EmbedderSettings } from '../../src/memory/embedders/index.js';
import { EmbeddingsServer } from '../../bench/embeddings-server.js';
import { writeTinyBert } from '../helpers/tiny-bert.js';
import { tempDir } from '../helpers/repo.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const MEMORIES = [
  'The billing job runs at midnight and emails a summary to finance.',
  'Grafana dashboards for the queue live in the ops folder.',
  'Use the Money type for amounts; never floats.',
  'The search index is rebuilt every Sunday.',
  'PRs need two approvals before merging to main.',
  'The self-service portal unlocks a locked profile.',
];

/** A store under a real embedder (the word lists and the embedder's similarity fused). */
async function storeWith(spec: string, over: Partial<EmbedderSettings>): Promise<{ memory: MemoryService; embedder: Embedder }> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const embedder = await createEmbedder({ spec, cacheDir: join(t.dir, 'cache'), allowRemoteModels: false, baseUrl: 'http://127.0.0.1:9/v1', batchSize: 4, ...over });
  cleanups.push(() => embedder.close?.());
  const db = openDatabase(join(t.dir, 'colony.db'), { migrations: colonyMigrations });
  cleanups.push(() => db.close());
  const memory = new MemoryService(db, new ManualClock(), embedder);
  await memory.storeMany(MEMORIES.map((text) => ({ text })));
  return { memory, embedder };
}

/**
 * What fusion promises whatever the model: the memory holding the cue's words first, every
 * memory also ranked by the embedder's cosine similarity (the figure explained is that
 * cosine), and those found by similarity alone in the order of their similarity.
 */
async function expectFused(memory: MemoryService, embedder: Embedder, cue: string, wordMatch: string): Promise<RecallResult> {
  const r = await memory.recall({ cue, budget_tokens: 10_000, k: MEMORIES.length, explain: true });
  expect(r.memories[0]!.text).toBe(wordMatch);
  expect(r.memories[0]!.explain!.ranks.words).toBe(1);
  const [cueVec, ...vectors] = await embedder.embed([cue, ...r.memories.map((m) => m.text)]);
  r.memories.forEach((m, i) => {
    expect(m.explain!.ranks.similarity, m.text).toBeGreaterThan(0);
    expect(m.explain!.similarity).toBeCloseTo(cosine(cueVec!, vectors[i]!), 3);
  });
  const bySimilarityAlone = r.memories.filter((m) => Object.keys(m.explain!.ranks).join() === 'similarity').map((m) => m.explain!.similarity);
  expect(bySimilarityAlone.length).toBeGreaterThan(0);
  expect(bySimilarityAlone).toEqual([...bySimilarityAlone].sort((a, b) => b - a));
  return r;
}

describe('recall fuses the word lists with a real model’s similarity', () => {
  it('transformers:<model> (a local ONNX model, offline)', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    writeTinyBert(t.dir, 'test/tiny-bert', { hidden: 24, seed: 5 });
    const { memory, embedder } = await storeWith('transformers:test/tiny-bert', { modelDir: t.dir });
    expect(embedder.id).toBe('transformers:test/tiny-bert');
    await expectFused(memory, embedder, 'when is the search index rebuilt', 'The search index is rebuilt every Sunday.');
  });

  it('openai:<model> (a local OpenAI-compatible server), where meaning alone finds a memory', async () => {
    const server = await EmbeddingsServer.start();
    cleanups.push(() => server.close());
    // Texts about getting locked out share one direction, as a real model would place them.
    server.vectorOf = (text) => (/portal|workstation/.test(text) ? [9, 0, 0, 0, 0, 0, 0, 0] : EmbeddingsServer.vector(text));
    const { memory, embedder } = await storeWith('openai:test-embed', { baseUrl: server.baseUrl });
    expect(embedder.id).toBe('openai:test-embed');
    await expectFused(memory, embedder, 'approvals before merging', 'PRs need two approvals before merging to main.');
    // No word in common: only the similarity list can bring it, and it comes first.
    const r = await memory.recall({ cue: 'I cannot get into my workstation', budget_tokens: 10_000, k: 3, explain: true });
    expect(r.memories[0]!.text).toBe('The self-service portal unlocks a locked profile.');
    expect(r.memories[0]!.explain).toMatchObject({ matched: [], similarity: 1, ranks: { similarity: 1 } });
    expect(server.requests.every((q) => q.model === 'test-embed')).toBe(true);
  });
});
