// Run with --expose-gc (bench/coord.ts does): heap held by gathered records, and how
// gather time scales with payload size. Prints BenchResult[] as JSON.
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/lib/sqlite.js';
import { colonyMigrations } from '../src/daemon/migrations.js';
import { ManualClock } from '../src/lib/clock.js';
import { CoordService } from '../src/coord/service.js';
import { medianMs, type BenchResult } from './lib.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function storeWithTasks(n: number, payloadBytes: number): { coord: CoordService; done: () => void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'colony-bench-mem-')));
  const db = openDatabase(join(dir, 'colony.db'), { migrations: colonyMigrations });
  const coord = new CoordService({ db, clock: new ManualClock(Date.now()) });
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const text = `task ${i} `.padEnd(payloadBytes - 120, 'abcdefghij');
      coord.taskCreate({ run_id: `run${i % 100}`, description: text });
    }
  })();
  return { coord, done: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

const results: BenchResult[] = [];
{
  const s = storeWithTasks(10_000, 1024);
  gc();
  const before = process.memoryUsage().heapUsed;
  const records = s.coord.gatherRecords(['task']);
  gc();
  const held = process.memoryUsage().heapUsed - before;
  const json = Buffer.byteLength(JSON.stringify(records));
  results.push({ name: 'heap held by a gather of 10,000 records with ~1 KiB payloads, × JSON size', measured: held / json, unit: '×', budget: 3, kind: 'max', note: `${(held / 1e6).toFixed(1)} MB for ${(json / 1e6).toFixed(1)} MB of JSON` });
  s.done();
}
const perKiB: number[] = [];
for (const size of [50, 1024, 10 * 1024, 50 * 1024]) {
  const n = 1000;
  const s = storeWithTasks(n, Math.max(size, 130));
  const ms = await medianMs(() => s.coord.gatherRecords(['task']), 5);
  const kib = (n * Math.max(size, 130)) / 1024;
  perKiB.push(ms / kib);
  results.push({ name: `gather 1,000 records with ${size >= 1024 ? `${size / 1024} KiB` : `${size} B`} payloads`, measured: ms, unit: 'ms', kind: 'info', note: `${((kib / 1024) / (ms / 1000)).toFixed(0)} MiB/s` });
  s.done();
}
// Linear scaling: the cost per KiB at 50 KiB is no worse than at 1 KiB (fixed costs dominate small payloads).
results.push({ name: 'gather cost per KiB at 50 KiB payloads (budget: per KiB at 1 KiB)', measured: perKiB[3]!, unit: 'ms/KiB', budget: perKiB[1]!, kind: 'max' });
process.stdout.write(JSON.stringify(results));
