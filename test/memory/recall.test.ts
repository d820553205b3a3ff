import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase, migrate, type Db } from '../../src/lib/sqlite.js';
import { colonyMigrations } from '../../src/daemon/migrations.js';
import { ManualClock } from '../../src/lib/clock.js';
import { MemoryService } from '../../src/memory/service.js';
import { rankingWith } from '../../src/memory/recall.js';
import { identifierParts, queryWords } from '../../src/memory/terms.js';
import { synonymsOf } from '../../src/memory/synonyms.js';
import { InvalidInputError } from '../../src/lib/errors.js';
import { memoryTools } from '../../src/mcp/tools/memory.js';
import type { ToolCallContext } from '../../src/mcp/tool.js';
import { tempDir } from '../helpers/repo.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.reverse().forEach((c) => c());
  cleanups = [];
});

function dbFile(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return join(t.dir, 'colony.db');
}

function open(file = dbFile(), ranking = rankingWith()): { memory: MemoryService; db: Db } {
  const db = openDatabase(file, { migrations: colonyMigrations });
  cleanups.unshift(() => db.open && db.close());
  return { memory: new MemoryService(db, new ManualClock(), undefined, ranking), db };
}

/** Unrelated memories around the ones a test looks for, so ranks mean something. */
const FILLER = [
  'The billing job runs at midnight and emails a summary to finance.',
  'Grafana dashboards for the queue live in the ops folder.',
  'Use the Money type for amounts; never floats.',
  'The search index is rebuilt every Sunday.',
  'PRs need two approvals before merging to main.',
  'Redis is only a cache; losing it must not lose data.',
];

const texts = (r: { memories: { text: string }[] }): string[] => r.memories.map((m) => m.text);

describe('query analysis', () => {
  it('splits camelCase identifiers, drops stop words, and knows software synonyms by stem', () => {
    expect(identifierParts('call parseConfigFile, then HTTPServer.listen() in snake_case')).toEqual(['parse', 'config', 'file', 'http', 'server']);
    expect(queryWords('How do I fix the flakyTest?')).toEqual(['fix', 'flakytest', 'flaky', 'test']);
    expect(synonymsOf('deploying')).toEqual(expect.arrayContaining(['release', 'ship']));
    expect(synonymsOf('Flaky')).toContain('intermittent');
    expect(synonymsOf('zebra')).toEqual([]);
  });
});

describe('recall ranking', () => {
  it('finds a memory sharing one rare word with a long cue (no word is required)', async () => {
    const { memory } = open();
    await memory.storeMany([...FILLER, 'Webhooks from Stripe are verified with the signing secret in VAULT_STRIPE_KEY.'].map((text) => ({ text })));
    const r = await memory.recall({ cue: 'what protects incoming stripe notifications from being forged by strangers', budget_tokens: 1000, k: 3 });
    expect(texts(r)[0]).toContain('Stripe');
  });

  it('bridges synonyms: a cue about shipping finds a memory about releases, and explains it', async () => {
    const { memory } = open();
    await memory.storeMany([...FILLER, 'Releases are cut from main every Tuesday by the release manager.'].map((text) => ({ text })));
    const r = await memory.recall({ cue: 'when do we ship', budget_tokens: 1000, k: 3, explain: true });
    expect(texts(r)[0]).toContain('Releases');
    const x = r.memories[0]!.explain!;
    expect(x.matched).toEqual([]);
    expect(x.expanded).toEqual(expect.arrayContaining(['release']));
    expect(x.ranks.words).toBe(1);
    // Without synonyms the same cue does not find it.
    const off = open(undefined, rankingWith({ synonyms: false })).memory;
    await off.storeMany([...FILLER, 'Releases are cut from main every Tuesday by the release manager.'].map((text) => ({ text })));
    expect(texts(await off.recall({ cue: 'when do we ship', budget_tokens: 1000, k: 3 }))).not.toContain('Releases are cut from main every Tuesday by the release manager.');
  });

  it('matches the parts of camelCase identifiers in memories and cues', async () => {
    const { memory } = open();
    await memory.storeMany([...FILLER, 'Call loadWorkspaceSettings before the server starts or defaults win.'].map((text) => ({ text })));
    expect(texts(await memory.recall({ cue: 'workspace settings load order', budget_tokens: 1000, k: 1 }))[0]).toContain('loadWorkspaceSettings');
  });

  it('explains matched words and similarity', async () => {
    const { memory } = open();
    await memory.storeMany(FILLER.map((text) => ({ text })));
    const r = await memory.recall({ cue: 'how often is the search index rebuilt', budget_tokens: 1000, k: 2, explain: true });
    const top = r.memories[0]!;
    expect(top.text).toBe('The search index is rebuilt every Sunday.');
    expect(top.explain!.matched.sort()).toEqual(['index', 'rebuilt', 'search']);
    expect(top.explain!.similarity).toBeGreaterThan(0.3);
    expect(top.explain!.ranks.words).toBe(1);
    // Not asked, not given.
    expect((await memory.recall({ cue: 'search index', budget_tokens: 1000 })).memories[0]!.explain).toBeUndefined();
  });
});

describe('keywords and alternatives', () => {
  it('finds a memory by its keywords, lists them, and merges them when the text is stored again', async () => {
    const { memory } = open();
    await memory.storeMany(FILLER.map((text) => ({ text })));
    const stored = await memory.store({ text: 'ENOSPC on the runner: prune images weekly.', keywords: ['docker', 'disk full'] });
    const r = await memory.recall({ cue: 'docker disk', budget_tokens: 1000, k: 1, explain: true });
    expect(r.memories[0]!.id).toBe(stored.id);
    expect(r.memories[0]!.explain!.matched.sort()).toEqual(['disk', 'docker']);
    await memory.store({ text: 'ENOSPC on the runner: prune images weekly.', keywords: ['storage'] });
    expect(memory.list().memories.find((m) => m.id === stored.id)!.keywords).toEqual(['docker', 'disk', 'full', 'storage']);
    expect((await memory.recall({ cue: 'storage', budget_tokens: 1000, k: 1 })).memories[0]!.id).toBe(stored.id);
    await expect(memory.store({ text: 'x', keywords: Array.from({ length: 101 }, (_, i) => `k${i}`) })).rejects.toThrow(/keywords/);
  });

  it('ranks with the alternatives a caller gives beside the cue', async () => {
    const { memory } = open();
    const target = 'Playwright needs Chromium from apt on the build machine.';
    await memory.storeMany([...FILLER, target].map((text) => ({ text })));
    const cue = 'why are the end-to-end checks red';
    expect(texts(await memory.recall({ cue, budget_tokens: 1000, k: 3 }))).not.toContain(target);
    const r = await memory.recall({ cue, alternatives: ['playwright browser missing', 'chromium install'], budget_tokens: 1000, k: 3, explain: true });
    expect(texts(r)[0]).toBe(target);
    expect(r.memories[0]!.explain!.ranks.alternatives).toBe(1);
    await expect(memory.recall({ cue, alternatives: Array.from({ length: 9 }, () => 'x'), budget_tokens: 10 })).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('migration 7', () => {
  it('indexes the identifier parts and keeps recall working for memories stored before it', async () => {
    const file = dbFile();
    const old = openDatabase(file, { migrations: colonyMigrations.filter((m) => m.version <= 6) });
    const v = Buffer.from(new Float32Array(256).buffer);
    old.prepare(`INSERT INTO memories (id, scope, text, text_hash, tags, tokens, created_at, updated_at, embedder, vector, vec_seq)
      VALUES ('mem_1', 'repo', 'Use retryWithBackoff for flaky calls.', 'h1', '["net"]', 8, 0, 0, 'lexical-256', ?, 1)`).run(v);
    old.close();
    const db = openDatabase(file);
    migrate(db, colonyMigrations);
    db.close();
    const { memory } = open(file);
    const r = await memory.recall({ cue: 'backoff', budget_tokens: 100, explain: true });
    expect(r.memories.map((m) => m.id)).toEqual(['mem_1']);
    expect((await memory.recall({ cue: 'net', budget_tokens: 100 })).memories).toHaveLength(1);
    expect(memory.list().memories[0]!.keywords).toEqual([]);
  });
});

describe('memory tools', () => {
  it('take keywords, alternatives and explain, and refuse them out of bounds', async () => {
    const { memory } = open();
    const tools = new Map(memoryTools(memory).map((t) => [t.name, t]));
    const call = async (name: string, args: unknown): Promise<unknown> => tools.get(name)!.handler(tools.get(name)!.input.parse(args), {} as ToolCallContext);
    await call('memory_store', { text: 'ENOSPC on the runner: prune images weekly.', keywords: ['docker', 'disk'] });
    const r = (await call('memory_recall', { cue: 'docker', alternatives: ['disk full'], explain: true, budget_tokens: 100 })) as { memories: { explain: { matched: string[] } }[] };
    expect(r.memories[0]!.explain.matched.sort()).toEqual(['disk', 'docker']);
    expect(() => tools.get('memory_recall')!.input.parse({ cue: 'x', budget_tokens: 1, alternatives: Array(9).fill('y') })).toThrow();
    expect(() => tools.get('memory_store')!.input.parse({ text: 'x', keywords: [''] })).toThrow();
  });
});
