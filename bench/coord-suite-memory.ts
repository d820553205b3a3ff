// Run with --expose-gc (bench/coord-suite.ts does, in a child of its own): the heap the
// "muse coord" suite bounds (tracemalloc there; the live heap after a full gc here), each
// budget 50× under the specification's. Prints BenchResult[] as JSON.
import type { BenchResult } from './lib.js';
import { colonyStore, remoteRecords, SPEC_FACTOR } from './coord-suite.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const results: BenchResult[] = [];
{
  const records = remoteRecords(1000 / 7 + 1)
    .slice(0, 1000)
    .map((r) => ({ ...r, payload: { ...r.payload, _pad: 'x'.repeat(1024) } }));
  const s = colonyStore();
  gc();
  const before = process.memoryUsage().heapUsed;
  s.coord.writeRemoteRecords(records);
  gc();
  const held = process.memoryUsage().heapUsed - before;
  results.push({ name: 'heap held after applying 1,000 × 1 KiB remote records', measured: held / 1e6, unit: 'MB', budget: 100 / SPEC_FACTOR, kind: 'max', note: 'spec 100 MB' });
  s.done();
}
{
  const s = colonyStore();
  s.coord.store.db.transaction(() => {
    for (let i = 0; i < 1000; i++) s.coord.reserve({ run_id: `run-${i}`, symbols: [`drivers/block/hd_${i}.c::init`], ttl_seconds: 1 });
  })();
  s.clock.advance(10_000);
  gc();
  const before = process.memoryUsage().heapUsed;
  const removed = s.coord.gc().reservations_removed;
  gc();
  const held = process.memoryUsage().heapUsed - before;
  if (removed !== 1000) throw new Error(`gc removed ${removed}`);
  results.push({ name: 'heap held after a gc of 1,000 expired reservations', measured: held / 1e6, unit: 'MB', budget: 50 / SPEC_FACTOR, kind: 'max', note: 'spec 50 MB' });
  s.done();
}
process.stdout.write(JSON.stringify(results));
