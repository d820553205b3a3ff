import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src/lib/sqlite.js';
import { colonyMigrations } from '../src/daemon/migrations.js';
import { systemClock } from '../src/lib/clock.js';
import { MemoryService } from '../src/memory/service.js';
import type { BenchResult } from './lib.js';

/** The labelled set: (memory, question) pairs, questions worded differently from their memory. */
const DATA = fileURLToPath(new URL('../../bench/data/memory-qa.jsonl', import.meta.url));

export default async function run(): Promise<BenchResult[]> {
  const pairs = readFileSync(DATA, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { memory: string; question: string });
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'colony-bench-quality-')));
  const db = openDatabase(join(dir, 'colony.db'), { migrations: colonyMigrations });
  try {
    const memory = new MemoryService(db, systemClock);
    const ids = memory.storeMany(pairs.map((p) => ({ text: p.memory }))).map((r) => r.id);
    let hits5 = 0;
    let hits1 = 0;
    pairs.forEach((p, i) => {
      const got = memory.recall({ cue: p.question, budget_tokens: 100_000, k: 5 }).memories.map((m) => m.id);
      if (got.includes(ids[i]!)) hits5++;
      if (got[0] === ids[i]) hits1++;
    });
    return [
      { name: `recall@5 on ${pairs.length} paraphrased questions, lexical embedder`, measured: hits5 / pairs.length, unit: 'fraction', kind: 'info', note: `recall@1 ${(hits1 / pairs.length).toFixed(2)}` },
    ];
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
