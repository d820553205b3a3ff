import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import MiniSearch from 'minisearch';
import { create, insertMultiple, search as oramaSearch } from '@orama/orama';
import { stemmer } from 'stemmer';
import { openDatabase, type Db } from '../src/lib/sqlite.js';
import { colonyMigrations } from '../src/daemon/migrations.js';
import { systemClock } from '../src/lib/clock.js';
import { defaultCacheDir } from '../src/daemon/config.js';
import { MemoryService } from '../src/memory/service.js';
import { rankingWith, type RankingOptions } from '../src/memory/recall.js';
import { createEmbedder, type Embedder, type EmbedderSettings } from '../src/memory/embedders/index.js';
import { median, type BenchResult } from './lib.js';
import { loadCorpus, type Pair } from './memory-corpus.js';

/**
 * Recall quality, side by side on one corpus: Colony with every embedder available here
 * and the offline full-text libraries an agent tool might use instead. Each system indexes
 * the same memories (the labelled pairs' memories, hand-written near-misses, generated
 * distractors) and answers the same questions; a question scores when its own memory is in
 * the top k. Constants are tuned on the development split only; the held-out split is what
 * the budget is judged on.
 */

const require = createRequire(import.meta.url);

/** A search system under test: index documents once, then answer queries with document indexes, best first. */
interface System {
  name: string;
  search(question: string, alternatives?: string[]): Promise<number[]> | number[];
  close?(): Promise<void> | void;
}

interface Scores {
  n: number;
  r1: number;
  r5: number;
  r10: number;
  mrr: number;
}

interface Measured {
  name: string;
  /** split → subset → scores */
  by: Record<string, Record<'all' | 'hard', Scores>>;
  latencyMs: number;
}

const SPLITS = ['dev', 'held-out'] as const;
const K = 10;

function score(ranks: (number | undefined)[]): Scores {
  const n = ranks.length;
  const at = (k: number): number => ranks.filter((r) => r !== undefined && r < k).length / Math.max(1, n);
  const mrr = ranks.reduce<number>((s, r) => s + (r !== undefined && r < K ? 1 / (r + 1) : 0), 0) / Math.max(1, n);
  return { n, r1: at(1), r5: at(5), r10: at(10), mrr };
}

export async function evaluate(system: System, pairs: Pair[], targets: number[], withAlternatives = false): Promise<Measured> {
  const ranks: (number | undefined)[] = [];
  const times: number[] = [];
  for (const [i, p] of pairs.entries()) {
    const t = performance.now();
    const got = await system.search(p.question, withAlternatives ? p.alternatives : undefined);
    times.push(performance.now() - t);
    const at = got.slice(0, K).indexOf(targets[i]!);
    ranks.push(at < 0 ? undefined : at);
  }
  const by: Measured['by'] = {};
  for (const split of SPLITS) {
    const idx = pairs.map((p, i) => (p.split === split ? i : -1)).filter((i) => i >= 0);
    by[split] = { all: score(idx.map((i) => ranks[i])), hard: score(idx.filter((i) => pairs[i]!.hard).map((i) => ranks[i])) };
  }
  return { name: system.name, by, latencyMs: median(times) };
}

// ---- Colony ----------------------------------------------------------------------------

export function embedderSettings(spec: string): EmbedderSettings {
  return {
    spec,
    cacheDir: process.env.COLONY_CACHE_DIR ?? defaultCacheDir(),
    modelDir: process.env.COLONY_EMBED_MODEL_DIR,
    allowRemoteModels: false,
    baseUrl: process.env.COLONY_EMBED_BASE_URL ?? 'https://api.openai.com/v1',
    apiKey: process.env.COLONY_EMBED_API_KEY,
    batchSize: 64,
  };
}

/** A Colony store holding the corpus under one embedder; systems for any ranking over it. */
export class ColonyCorpus {
  private constructor(
    readonly embedder: Embedder,
    private readonly dir: string,
    readonly db: Db,
    private readonly index: Map<string, number>,
  ) {}

  static async open(spec: string, docs: string[]): Promise<ColonyCorpus> {
    const embedder = await createEmbedder(embedderSettings(spec), (m) => console.error(`  ${m}`));
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'colony-bench-quality-')));
    const db = openDatabase(join(dir, 'colony.db'), { migrations: colonyMigrations });
    const ids = (await new MemoryService(db, systemClock, embedder).storeMany(docs.map((text) => ({ text })))).map((r) => r.id);
    return new ColonyCorpus(embedder, dir, db, new Map(ids.map((id, i) => [id, i])));
  }

  system(name: string, ranking: RankingOptions = rankingWith()): System {
    const memory = new MemoryService(this.db, systemClock, this.embedder, ranking);
    return {
      name,
      search: async (cue, alternatives) => (await memory.recall({ cue, alternatives, budget_tokens: 1_000_000, k: K })).memories.map((m) => this.index.get(m.id)!),
    };
  }

  async close(): Promise<void> {
    await this.embedder.close?.();
    this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Embedders to compare: the built-in ones; a transformers model (COLONY_BENCH_TRANSFORMERS) or OpenAI-compatible server (COLONY_BENCH_OPENAI) when named. */
function embedderSpecs(env: NodeJS.ProcessEnv): string[] {
  const specs = ['lexical', 'glove'];
  if (env.COLONY_BENCH_TRANSFORMERS) specs.push(`transformers:${env.COLONY_BENCH_TRANSFORMERS}`);
  if (env.COLONY_BENCH_OPENAI) specs.push(`openai:${env.COLONY_BENCH_OPENAI}`);
  return specs;
}

// ---- Peers, each configured as its documentation recommends for English text ----------

const nlp = require('wink-nlp-utils') as {
  string: { lowerCase(s: string): string; removeExtraSpaces(s: string): string; tokenize0(s: string): string[] };
  tokens: { removeWords(t: string[]): string[]; stem(t: string[]): string[]; propagateNegations(t: string[]): string[] };
};
type Wink = {
  defineConfig(c: { fldWeights: Record<string, number> }): void;
  definePrepTasks(tasks: unknown[]): void;
  addDoc(doc: Record<string, string>, id: number): void;
  consolidate(): void;
  search(q: string, limit?: number): [number, number][];
};

function wink(docs: string[]): System {
  const engine = (require('wink-bm25-text-search') as () => Wink)();
  engine.defineConfig({ fldWeights: { text: 1 } });
  engine.definePrepTasks([nlp.string.lowerCase, nlp.string.removeExtraSpaces, nlp.string.tokenize0, nlp.tokens.propagateNegations, nlp.tokens.removeWords, nlp.tokens.stem]);
  docs.forEach((text, i) => engine.addDoc({ text }, i));
  engine.consolidate();
  return { name: 'wink-bm25-text-search', search: (q) => engine.search(q, K).map(([id]) => Number(id)) };
}

function minisearch(docs: string[], stemmed: boolean): System {
  const ms = new MiniSearch<{ id: number; text: string }>({
    fields: ['text'],
    ...(stemmed
      ? {
          processTerm: (term: string) => {
            const t = term.toLowerCase();
            // wink's stop word list (the same as the wink peer), then Porter.
            return nlp.tokens.removeWords([t]).length ? stemmer(t) : null;
          },
        }
      : {}),
  });
  ms.addAll(docs.map((text, id) => ({ id, text })));
  const options = stemmed ? {} : { prefix: true, fuzzy: 0.2 };
  return { name: stemmed ? 'MiniSearch + Porter stemmer' : 'MiniSearch (prefix + fuzzy)', search: (q) => ms.search(q, options).slice(0, K).map((r) => r.id as number) };
}

async function orama(docs: string[]): Promise<System> {
  const db = create({ schema: { text: 'string' } as const, components: { tokenizer: { stemming: true, language: 'english' } } });
  await insertMultiple(
    db,
    docs.map((text, i) => ({ id: String(i), text })),
  );
  return { name: 'Orama (stemming)', search: async (q) => (await oramaSearch(db, { term: q, limit: K })).hits.map((h) => Number(h.id)) };
}

// ---- Report ------------------------------------------------------------------------------

const pct = (x: number): string => (100 * x).toFixed(1).padStart(5);

function table(rows: Measured[], split: string): string {
  const head = `| system | R@1 | R@5 | R@10 | MRR@10 | hard R@1 | hard R@5 | hard R@10 | hard MRR@10 | median ms |`;
  const line = '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|';
  const body = rows.map((r) => {
    const a = r.by[split]!.all;
    const h = r.by[split]!.hard;
    return `| ${r.name} | ${pct(a.r1)} | ${pct(a.r5)} | ${pct(a.r10)} | ${pct(a.mrr)} | ${pct(h.r1)} | ${pct(h.r5)} | ${pct(h.r10)} | ${pct(h.mrr)} | ${r.latencyMs.toFixed(2)} |`;
  });
  return [head, line, ...body].join('\n');
}

/** The ablation: the default ranking with one component changed at a time (development split). */
export const ABLATIONS: [string, Parameters<typeof rankingWith>[0]][] = [
  ['default', {}],
  ['− words (cue BM25)', { weights: { words: 0 } }],
  ['− synonyms', { synonyms: false }],
  ['cue words 2× synonyms (was the default)', { cueOverSynonyms: 2 }],
  ['+ feedback (PRF, off by default)', { weights: { feedback: 0.3 } }],
  ['− trigrams', { weights: { trigrams: 0 } }],
  ['+ similarity (lexical vectors, off by default)', { weights: { lexicalSimilarity: 0.5 } }],
  ['+ co-occurrence expansion (off by default)', { weights: { cooccurrence: 0.5 } }],
  ['− identifier splitting', { splitIdentifiers: false }],
  ['− field weights (all 1)', { fields: { text: 1, keywords: 1, tags: 1, terms: 1 } }],
];

export default async function run(): Promise<BenchResult[]> {
  const corpus = loadCorpus();
  const { pairs } = corpus;
  const docs = [...pairs.map((p) => p.memory), ...corpus.nearMisses, ...corpus.distractors];
  const targets = pairs.map((_, i) => i);
  const hard = pairs.filter((p) => p.hard).length;
  console.error(
    `  corpus: ${docs.length} memories (${pairs.length} labelled: ${SPLITS.map((s) => `${pairs.filter((p) => p.split === s).length} ${s}`).join(', ')}; ${hard} hard), ` +
      `${corpus.nearMisses.length} hand-written near-misses, ${corpus.distractors.length} generated distractors`,
  );

  const rows: Measured[] = [];
  const ablation: Measured[] = [];
  let defaultRow: Measured | undefined;
  let alternativesRow: Measured | undefined;
  for (const spec of embedderSpecs(process.env)) {
    let store: ColonyCorpus;
    try {
      store = await ColonyCorpus.open(spec, docs);
    } catch (err) {
      console.error(`  ${spec}: not available here (${(err as Error).message})`);
      continue;
    }
    try {
      const row = await evaluate(store.system(`Colony (${store.embedder.id})`), pairs, targets);
      rows.push(row);
      if (spec === 'lexical') {
        defaultRow = row;
        for (const [name, over] of ABLATIONS.slice(1)) ablation.push(await evaluate(store.system(name, rankingWith(over)), pairs, targets));
      }
      if (store.embedder.neighbours) {
        // Query expansion by word vectors: measured, off by default (it lowered dev recall).
        rows.push(await evaluate(store.system(`Colony (${store.embedder.id}) + word-vector neighbours`, rankingWith({ weights: { neighbours: 1 } })), pairs, targets));
      }
      // What an agent's own rephrasings add (the development split carries them).
      const withAlternatives = { ...(await evaluate(store.system(`Colony (${store.embedder.id}) + alternatives`), pairs, targets, true)), name: `Colony (${store.embedder.id}) + alternatives (dev only)` };
      rows.push(withAlternatives);
      if (spec === 'lexical') alternativesRow = withAlternatives;
    } finally {
      await store.close();
    }
  }
  const peers: System[] = [wink(docs), minisearch(docs, false), minisearch(docs, true), await orama(docs)];
  const peerRows: Measured[] = [];
  for (const peer of peers) peerRows.push(await evaluate(peer, pairs, targets));
  rows.push(...peerRows);

  for (const split of SPLITS) console.log(`\nrecall on the ${split} split (%; hard = at most one content word shared with the memory)\n${table(rows, split)}`);
  if (defaultRow) console.log(`\nablation, development split (Colony, lexical)\n${table([{ ...defaultRow, name: 'default' }, ...ablation], 'dev')}`);
  if (defaultRow && alternativesRow) {
    const gain = (x: (s: Scores) => number): string => (100 * (x(alternativesRow.by.dev!.all) - x(defaultRow.by.dev!.all))).toFixed(1);
    console.log(`\nalternatives written for the development questions (lexical): R@10 ${gain((s) => s.r10)} points, MRR@10 ${gain((s) => s.mrr)} points`);
  }

  const bestPeer = peerRows.reduce((a, b) => (b.by['held-out']!.all.r10 > a.by['held-out']!.all.r10 ? b : a));
  const heldOut = pairs.filter((p) => p.split === 'held-out').length;
  const results: BenchResult[] = [
    { name: 'corpus: labelled (memory, question) pairs', measured: pairs.length, unit: 'pairs', budget: 300, kind: 'min', note: `${pairs.length - heldOut} dev, ${heldOut} held-out` },
    { name: 'corpus: hard pairs (at most one shared content word)', measured: hard, unit: 'pairs', budget: 60, kind: 'min' },
    { name: 'corpus: distractors (near-misses + generated)', measured: corpus.nearMisses.length + corpus.distractors.length, unit: 'memories', budget: 2000, kind: 'min' },
    { name: 'corpus: hand-written near-misses', measured: corpus.nearMisses.length, unit: 'memories', budget: 100, kind: 'min' },
  ];
  if (defaultRow) {
    const margin = 100 * (defaultRow.by['held-out']!.all.r10 - bestPeer.by['held-out']!.all.r10);
    results.push(
      { name: `held-out recall@10 margin over the best peer (${bestPeer.name}), points`, measured: Math.max(margin, 1e-9), unit: 'points', budget: 15, kind: 'min', note: `Colony ${pct(defaultRow.by['held-out']!.all.r10)} % vs ${pct(bestPeer.by['held-out']!.all.r10)} %` },
      { name: 'held-out recall@10 on hard questions (lexical), %', measured: Math.max(100 * defaultRow.by['held-out']!.hard.r10, 1e-9), unit: '%', budget: 1e-6, kind: 'min', note: `budget: above 0; best peer ${pct(bestPeer.by['held-out']!.hard.r10)} %` },
    );
  }
  for (const r of rows) results.push({ name: `recall@10 held-out, ${r.name}`, measured: r.by['held-out']!.all.r10, unit: 'fraction', kind: 'info', note: `dev ${r.by.dev!.all.r10.toFixed(3)}, median ${r.latencyMs.toFixed(2)} ms` });
  return results;
}
