import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { openDatabase } from '../../src/lib/sqlite.js';
import { colonyMigrations } from '../../src/daemon/migrations.js';
import { ManualClock } from '../../src/lib/clock.js';
import { MemoryService } from '../../src/memory/service.js';
import { MemoryWorkers } from '../../src/memory/pool.js';
import type { EmbedderSettings } from '../../src/memory/embedders/index.js';
import { InvalidInputError } from '../../src/lib/errors.js';
import { tempDir } from '../helpers/repo.js';

const LEXICAL: EmbedderSettings = { spec: 'lexical', cacheDir: '/nonexistent', allowRemoteModels: false, baseUrl: 'http://127.0.0.1:9/v1', batchSize: 64 };

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A memory store in a fresh database file, and a worker pool recalling from that file. */
async function storeAndPool() {
  const t = tempDir();
  const file = join(t.dir, 'colony.db');
  const db = openDatabase(file, { migrations: colonyMigrations });
  const clock = new ManualClock();
  const memory = new MemoryService(db, clock);
  const pool = await MemoryWorkers.start(file, clock, LEXICAL);
  cleanups.push(t.cleanup, () => db.close(), () => pool.close());
  return { memory, pool, file, clock };
}

describe('recall on worker threads (built worker, read-only connections)', () => {
  it('answers exactly as in-thread recall, sees new writes, and validates before the hop', async () => {
    const { memory, pool } = await storeAndPool();
    await memory.storeMany(Array.from({ length: 300 }, (_, i) => ({ text: `service ${i % 17} fails when the queue ${i % 5} backs up (case ${i})` })));
    for (const cue of ['service 3 queue backs up', 'case 42', 'fails when']) {
      const input = { cue, budget_tokens: 200, k: 10 };
      expect(await pool.recall(input)).toEqual(await memory.recall(input));
    }
    const fresh = await memory.store({ text: 'brand new lesson about zebras' });
    expect((await pool.recall({ cue: 'zebras', budget_tokens: 50 })).memories.map((m) => m.id)).toEqual([fresh.id]);
    expect(() => pool.recall({ cue: ' ', budget_tokens: 5 })).toThrow(InvalidInputError);
  });

  it('the test-only inline placement runs the same task runner on this thread, with the same answers', async () => {
    const { memory, pool, file, clock } = await storeAndPool();
    const inline = MemoryWorkers.inline(file, clock, LEXICAL);
    cleanups.push(() => inline.close());
    await memory.storeMany(Array.from({ length: 200 }, (_, i) => ({ text: `deploy ${i % 11} stalls when the cache ${i % 3} is cold (case ${i})` })));
    for (const cue of ['deploy 4 stalls', 'cache cold', 'case 7']) {
      const input = { cue, budget_tokens: 150, k: 8 };
      expect(await inline.recall(input)).toEqual(await pool.recall(input));
    }
    expect(() => inline.recall({ cue: ' ', budget_tokens: 5 })).toThrow(InvalidInputError);
  });

  it('refuses to start when the worker is missing or cannot be loaded, instead of recalling on the main thread', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const file = join(t.dir, 'colony.db');
    openDatabase(file, { migrations: colonyMigrations }).close();
    const clock = new ManualClock();
    await expect(MemoryWorkers.start(file, clock, LEXICAL, undefined, join(t.dir, 'no-worker.js'))).rejects.toThrow(
      /the memory worker .*no-worker\.js is missing; build Colony \(npm run build\)/,
    );
    const broken = join(t.dir, 'broken-worker.mjs');
    writeFileSync(broken, "throw new Error('cannot load the embedder module');\n");
    await expect(MemoryWorkers.start(file, clock, LEXICAL, undefined, broken)).rejects.toThrow(
      /the memory worker .*broken-worker\.mjs could not be loaded: .*cannot load the embedder module/,
    );
  });
});
