import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src/lib/sqlite.js';
import { colonyMigrations } from '../src/daemon/migrations.js';
import { systemClock } from '../src/lib/clock.js';
import { defaultCacheDir } from '../src/daemon/config.js';
import { MemoryService } from '../src/memory/service.js';
import { createEmbedder, type EmbedderSettings } from '../src/memory/embedders/index.js';
import type { BenchResult } from './lib.js';

/** The labelled set: (memory, question) pairs, questions worded differently from their memory. */
const DATA = fileURLToPath(new URL('../../bench/data/memory-qa.jsonl', import.meta.url));

/**
 * Embedders to compare: the built-in ones always; a transformers model when
 * COLONY_BENCH_TRANSFORMERS names one found under COLONY_EMBED_MODEL_DIR; an OpenAI-compatible
 * server when COLONY_BENCH_OPENAI names a model (COLONY_EMBED_BASE_URL, COLONY_EMBED_API_KEY).
 */
function candidates(env: NodeJS.ProcessEnv): string[] {
  const specs = ['lexical', 'glove'];
  if (env.COLONY_BENCH_TRANSFORMERS) specs.push(`transformers:${env.COLONY_BENCH_TRANSFORMERS}`);
  if (env.COLONY_BENCH_OPENAI) specs.push(`openai:${env.COLONY_BENCH_OPENAI}`);
  return specs;
}

async function measure(spec: string, pairs: { memory: string; question: string }[]): Promise<BenchResult> {
  const settings: EmbedderSettings = {
    spec,
    cacheDir: process.env.COLONY_CACHE_DIR ?? defaultCacheDir(),
    modelDir: process.env.COLONY_EMBED_MODEL_DIR,
    allowRemoteModels: false,
    baseUrl: process.env.COLONY_EMBED_BASE_URL ?? 'https://api.openai.com/v1',
    apiKey: process.env.COLONY_EMBED_API_KEY,
    batchSize: 64,
  };
  const embedder = await createEmbedder(settings, (m) => console.error(`  ${m}`));
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'colony-bench-quality-')));
  const db = openDatabase(join(dir, 'colony.db'), { migrations: colonyMigrations });
  try {
    const memory = new MemoryService(db, systemClock, embedder);
    const ids = (await memory.storeMany(pairs.map((p) => ({ text: p.memory })))).map((r) => r.id);
    let hits5 = 0;
    let hits1 = 0;
    for (const [i, p] of pairs.entries()) {
      const got = (await memory.recall({ cue: p.question, budget_tokens: 100_000, k: 5 })).memories.map((m) => m.id);
      if (got.includes(ids[i]!)) hits5++;
      if (got[0] === ids[i]) hits1++;
    }
    return { name: `recall@5 on ${pairs.length} paraphrased questions, ${embedder.id} embedder`, measured: hits5 / pairs.length, unit: 'fraction', kind: 'info', note: `recall@1 ${(hits1 / pairs.length).toFixed(2)}` };
  } finally {
    await embedder.close?.();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function run(): Promise<BenchResult[]> {
  const pairs = readFileSync(DATA, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { memory: string; question: string });
  const results: BenchResult[] = [];
  for (const spec of candidates(process.env)) {
    try {
      results.push(await measure(spec, pairs));
    } catch (err) {
      console.error(`  ${spec}: not available here (${(err as Error).message})`);
    }
  }
  return results;
}
