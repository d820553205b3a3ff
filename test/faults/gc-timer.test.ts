import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { collectGarbageInBatches } from '../../src/coord/gc.js';
import { CoordService } from '../../src/coord/service.js';
import { openDatabase } from '../../src/lib/sqlite.js';
import { colonyMigrations } from '../../src/daemon/migrations.js';
import { startTestDaemon, waitUntil } from '../helpers/daemon.js';
import { makeTempRepo, tempDir } from '../helpers/repo.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const reservationRows = (d: { coord: CoordService }): number => d.coord.gatherRecords(['reservation'], { limit: 100_000 }).length;

describe('the daemon collects dead coordination records on its own', () => {
  it('released glob reservations go without any manual gc; live ones stay', async () => {
    const repo = makeTempRepo();
    cleanups.push(repo.cleanup);
    const d: Daemon = await startTestDaemon(repo.dir, { gc_every: 0.2, gc_grace: 0 });
    cleanups.push(() => d.close());
    const live = d.coord.reserve({ run_id: 'keeper', symbols: ['src/live/**'] });
    expect(live.granted).toBe(true);
    for (let i = 0; i < 1200; i++) {
      const r = d.coord.reserve({ run_id: `run-${i % 7}`, symbols: [`pkg${i}/**/*.ts`] });
      if (!r.granted) throw new Error('unexpected conflict');
      d.coord.release({ run_id: `run-${i % 7}`, reservation_id: r.reservation_id });
    }
    await waitUntil(() => reservationRows(d) === 1, 30_000, 'the timer to collect released reservations');
    expect(d.coord.gatherRecords(['release'], { limit: 100_000 })).toHaveLength(0);
    expect(d.coord.status({}).reservations.map((r) => r.run_id)).toEqual(['keeper']);
  }, 60_000);

  it('collects in batches of bounded size, each its own transaction', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const db = openDatabase(`${t.dir}/c.db`, { migrations: colonyMigrations });
    cleanups.push(() => db.close());
    const coord = new CoordService({ db, clock: { now: () => Date.now() } });
    for (let i = 0; i < 1050; i++) {
      const r = coord.reserve({ run_id: 'r', symbols: [`f${i}.ts`] });
      if (r.granted) coord.release({ run_id: 'r', reservation_id: r.reservation_id });
    }
    const calls: number[] = [];
    const total = await collectGarbageInBatches(
      (o) => {
        const r = coord.gc(o);
        calls.push(r.reservations_removed);
        return r;
      },
      { graceSeconds: 0, batch: 400 },
    );
    expect(calls).toEqual([400, 400, 250]);
    expect(total.reservations_removed).toBe(1050);
    expect(total.releases_removed).toBe(1050);
  });
});
