import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { countTokens } from 'gpt-tokenizer';
import { openDatabase, type Db } from '../../src/lib/sqlite.js';
import { colonyMigrations } from '../../src/daemon/migrations.js';
import { ManualClock } from '../../src/lib/clock.js';
import { MemoryService } from '../../src/memory/service.js';
import { tempDir } from '../helpers/repo.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.reverse().forEach((c) => c());
  cleanups = [];
});

function open(file?: string): { memory: MemoryService; clock: ManualClock; db: Db; file: string } {
  let path = file;
  if (!path) {
    const t = tempDir();
    cleanups.push(t.cleanup);
    path = join(t.dir, 'colony.db');
  }
  const db = openDatabase(path, { migrations: colonyMigrations });
  cleanups.unshift(() => db.open && db.close());
  const clock = new ManualClock();
  return { memory: new MemoryService(db, clock), clock, db, file: path };
}

const FACTS = [
  'The build uses esbuild; run npm run build before the integration tests.',
  'Database migrations live in src/db/migrations and are numbered; never edit a shipped one.',
  'The payments service retries webhooks three times with exponential backoff.',
  'Set LOG_LEVEL=debug to see SQL statements in the API server logs.',
  'Alice owns the authentication module; ask her before changing token expiry.',
  'Flaky test: checkout.spec.ts fails when the clock crosses midnight UTC.',
];

describe('memory', async () => {
  it('stores with a real token count, and refreshes instead of duplicating the same text in a scope', async () => {
    const { memory, clock } = open();
    const a = await memory.store({ text: FACTS[0]!, tags: ['build'] });
    expect(a).toEqual({ id: expect.stringMatching(/^mem_/), tokens: countTokens(FACTS[0]!) });
    clock.advance(1000);
    const again = await memory.store({ text: `  ${FACTS[0]}  `, tags: ['ci'] });
    expect(again.id).toBe(a.id);
    expect(memory.list().memories).toHaveLength(1);
    expect(memory.list().memories[0]!.tags).toEqual(['build', 'ci']);
    // Another scope is another memory.
    expect((await memory.store({ text: FACTS[0]!, scope: 'global' })).id).not.toBe(a.id);
    expect(memory.stats()).toMatchObject({ memories: 2, scopes: [{ scope: 'global', count: 1 }, { scope: 'repo', count: 1 }] });
  });

  it('recalls the relevant memory first, within the scope, honouring tags', async () => {
    const { memory } = open();
    await memory.storeMany(FACTS.map((text, i) => ({ text, tags: [i % 2 ? 'odd' : 'even'] })));
    await memory.store({ text: 'Secret of another team: the build uses webpack.', scope: 'team-b' });
    const r = await memory.recall({ cue: 'how do I build before running integration tests?', budget_tokens: 1000 });
    expect(r.memories[0]!.text).toBe(FACTS[0]);
    expect(r.memories.some((m) => m.text.includes('webpack'))).toBe(false);
    expect((await memory.recall({ cue: 'who owns authentication', budget_tokens: 1000 })).memories[0]!.text).toBe(FACTS[4]);
    // Partial words still match through trigrams.
    expect((await memory.recall({ cue: 'migrat', budget_tokens: 1000 })).memories[0]!.text).toBe(FACTS[1]);
    const odd = await memory.recall({ cue: 'build tests logs webhooks', budget_tokens: 1000, tags: ['odd'] });
    expect(odd.memories.length).toBeGreaterThan(0);
    expect(odd.memories.every((m) => m.tags.includes('odd'))).toBe(true);
    expect((await memory.recall({ cue: 'webpack', budget_tokens: 1000, scope: 'team-b' })).memories).toHaveLength(1);
  });

  it('never exceeds the token budget, for any budget', async () => {
    const { memory } = open();
    await memory.storeMany(Array.from({ length: 120 }, (_, i) => ({ text: `note ${i} about the deploy pipeline ${'and its stages '.repeat(i % 7)}` })));
    for (let budget = 1; budget <= 400; budget += 13) {
      const r = await memory.recall({ cue: 'deploy pipeline stages', budget_tokens: budget, k: 200 });
      expect(r.used_tokens).toBeLessThanOrEqual(budget);
      expect(r.used_tokens).toBe(r.memories.reduce((n, m) => n + m.tokens, 0));
    }
    const big = await memory.recall({ cue: 'deploy pipeline', budget_tokens: 100_000, k: 5 });
    expect(big.memories).toHaveLength(5);
    expect(big.candidates).toBeGreaterThanOrEqual(5);
  });

  it('forgets, lists by cursor, and keeps everything across a reopen', async () => {
    const { memory, db, file } = open();
    const ids = (await memory.storeMany(FACTS.map((text) => ({ text })))).map((x) => x.id);
    expect(memory.forget({ id: ids[2]! })).toEqual({ forgotten: true });
    expect(memory.forget({ id: ids[2]! })).toEqual({ forgotten: false });
    expect((await memory.recall({ cue: 'payments webhooks retries', budget_tokens: 500 })).memories.map((m) => m.id)).not.toContain(ids[2]);
    const p1 = memory.list({ limit: 3 });
    const p2 = memory.list({ limit: 3, cursor: p1.next_cursor! });
    expect([...p1.memories, ...p2.memories].map((m) => m.id).sort()).toEqual(ids.filter((_, i) => i !== 2).sort());
    expect(p2.next_cursor).toBeNull();
    db.close();
    const again = open(file);
    expect(again.memory.stats().memories).toBe(5);
    expect((await again.memory.recall({ cue: 'LOG_LEVEL debug SQL', budget_tokens: 200 })).memories[0]!.text).toBe(FACTS[3]);
  });

  it('refuses bad input naming the field', async () => {
    const { memory } = open();
    await expect(memory.store({ text: '   ' })).rejects.toThrow(/text/);
    await expect(memory.recall({ cue: '', budget_tokens: 10 })).rejects.toThrow(/cue/);
    await expect(memory.recall({ cue: 'x', budget_tokens: 0 })).rejects.toThrow(/budget_tokens/);
    await expect(memory.recall({ cue: 'x', budget_tokens: 10, k: 0 })).rejects.toThrow(/k/);
    expect(() => memory.list({ cursor: 'abc' })).toThrow(/cursor/);
    // FTS syntax in a cue is text, not a query.
    expect((await memory.recall({ cue: 'NEAR( "x" * OR AND ) ^', budget_tokens: 10 })).memories).toEqual([]);
  });

  it('keeps its counters equal to the table through stores, refreshes, forgets and re-embeds', async () => {
    const { memory, db } = open();
    const truth = () => ({
      scopes: db.prepare('SELECT scope, COUNT(*) AS count, SUM(tokens) AS tokens FROM memories GROUP BY scope ORDER BY scope').all(),
      embedders: Object.fromEntries((db.prepare('SELECT embedder, COUNT(*) AS n FROM memories GROUP BY embedder').all() as { embedder: string; n: number }[]).map((r) => [r.embedder, r.n])),
    });
    const counted = () => ({ scopes: memory.stats().scopes, embedders: Object.fromEntries(memory.rows.embedderCounts()) });
    const stored = await memory.storeMany(FACTS.map((text, i) => ({ text, scope: i % 2 ? 'a' : 'b' })));
    await memory.store({ text: FACTS[0]!, scope: 'b' }); // a refresh: no new row
    expect(counted()).toEqual(truth());
    memory.forget({ id: stored[1]!.id });
    memory.forget({ id: stored[3]!.id });
    memory.forget({ id: stored[5]!.id }); // scope 'a' is now empty and gone
    expect(counted()).toEqual(truth());
    expect(memory.stats().scopes.map((s) => s.scope)).toEqual(['b']);
    const row = db.prepare('SELECT rowid, text FROM memories LIMIT 1').get() as { rowid: number; text: string };
    memory.rows.setVector(row.rowid, row.text, 'another', new Float32Array(4));
    expect(counted()).toEqual(truth());
    expect(memory.stats()).toMatchObject({ memories: 3, embedding: { current: 2, pending: 1 } });
  });

  it('fills the counters from memories stored before they existed', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const path = join(t.dir, 'colony.db');
    const old = openDatabase(path, { migrations: colonyMigrations.filter((m) => m.version <= 5) });
    const insert = old.prepare(`INSERT INTO memories (id, scope, text, text_hash, tags, tokens, created_at, updated_at, embedder, vector) VALUES (?, ?, ?, ?, '[]', ?, 0, 0, 'lexical-256', x'00')`);
    insert.run('m1', 'repo', 'one', 'h1', 3);
    insert.run('m2', 'repo', 'two', 'h2', 4);
    insert.run('m3', 'global', 'three', 'h3', 5);
    old.close();
    const { memory } = open(path);
    expect(memory.stats()).toMatchObject({ memories: 3, tokens: 12, scopes: [{ scope: 'global', count: 1, tokens: 5 }, { scope: 'repo', count: 2, tokens: 7 }], embedding: { current: 3, pending: 0 } });
  });
});
