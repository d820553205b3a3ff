import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
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

describe('recall on worker threads (built worker, read-only connections)', () => {
  it('answers exactly as in-thread recall, sees new writes, and validates before the hop', async () => {
    const t = tempDir();
    const file = join(t.dir, 'colony.db');
    const db = openDatabase(file, { migrations: colonyMigrations });
    const clock = new ManualClock();
    const memory = new MemoryService(db, clock);
    const pool = MemoryWorkers.open(file, clock, LEXICAL);
    expect(pool, 'the worker is built by npm test before vitest runs').toBeDefined();
    cleanups.push(t.cleanup, () => db.close(), () => pool!.close());
    await memory.storeMany(Array.from({ length: 300 }, (_, i) => ({ text: `service ${i % 17} fails when the queue ${i % 5} backs up (case ${i})` })));
    for (const cue of ['service 3 queue backs up', 'case 42', 'fails when']) {
      const input = { cue, budget_tokens: 200, k: 10 };
      expect(await pool!.recall(input)).toEqual(await memory.recall(input));
    }
    const fresh = await memory.store({ text: 'brand new lesson about zebras' });
    expect((await pool!.recall({ cue: 'zebras', budget_tokens: 50 })).memories.map((m) => m.id)).toEqual([fresh.id]);
    expect(() => pool!.recall({ cue: ' ', budget_tokens: 5 })).toThrow(InvalidInputError);
  });
});
