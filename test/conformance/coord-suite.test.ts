// Conformance: the correctness parts of the "muse coord" extreme-scale suite (seeds/001_*),
// each named after the case it ports; its timings are in bench/coord-suite.ts. Pushes go to a
// real `colony hub serve` process; the client only counts the batches it sends.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { spawnColony, type ColonyProcess } from '../../bench/colony-process.js';
import { allKinds, colonyStore, CountingHubClient, paddedReservations, remoteRecords } from '../../bench/coord-suite.js';
import { push, MAX_PUSH_BATCH } from '../../src/coord/sync/sync.js';
import { RECORD_KINDS } from '../../src/coord/wire.js';
import { tempDir } from '../helpers/repo.js';

let hub: ColonyProcess;
let hubDir: { dir: string; cleanup: () => void };
beforeAll(async () => {
  hubDir = tempDir();
  hub = await spawnColony(['hub', 'serve', '--port', '0', '--db', `sqlite:${join(hubDir.dir, 'hub.db')}`, '--allow-unsigned']);
}, 60_000);
afterAll(async () => {
  await hub.stop();
  hubDir.cleanup();
});

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.reverse().forEach((c) => c());
  cleanups = [];
});

function store(): ReturnType<typeof colonyStore> {
  const s = colonyStore();
  cleanups.push(s.done);
  return s;
}

/** A colony holding `n` local reservations, and a counting client on its own repository id. */
function pushing(n: number, repo: string): { s: ReturnType<typeof colonyStore>; client: CountingHubClient } {
  const s = store();
  s.coord.store.db.transaction(() => {
    for (let i = 0; i < n; i++) s.coord.reserve({ run_id: 'run-0', symbols: [`kernel/f${i}.c`] });
  })();
  return { s, client: new CountingHubClient({ hubUrl: hub.url, repoId: repo }) };
}

describe('TestCoordPerfBatchLoop (against a real hub)', () => {
  it('test_batch_loop_7000_records_14_calls', async () => {
    const { s, client } = pushing(7000, 'torvalds/linux-7000');
    const r = await push(s.coord, client, { origin: 'colony-a' });
    expect(MAX_PUSH_BATCH).toBe(500);
    expect(client.batches).toHaveLength(14);
    expect(r).toEqual({ inserted: 7000, skipped: 0, refused: 0, batches: 14 });
  }, 60_000);

  it('test_batch_sizes_are_never_over_max_push_batch', async () => {
    const { s, client } = pushing(3333, 'torvalds/linux-3333');
    await push(s.coord, client, { origin: 'colony-a' });
    expect(client.batches.every((b) => b <= MAX_PUSH_BATCH)).toBe(true);
    expect(client.batches.reduce((a, b) => a + b, 0)).toBe(3333);
  }, 60_000);

  it('test_last_batch_is_correct_remainder', async () => {
    const { s, client } = pushing(MAX_PUSH_BATCH * 14 + 1, 'torvalds/linux-7001');
    const r = await push(s.coord, client, { origin: 'colony-a' });
    expect(client.batches).toHaveLength(15);
    expect(client.batches[client.batches.length - 1]).toBe(1);
    expect(r.inserted).toBe(7001);
  }, 60_000);

  it('test_zero_records_no_http_calls', async () => {
    const { s, client } = pushing(0, 'torvalds/linux-empty');
    expect(await push(s.coord, client, { origin: 'colony-a' })).toEqual({ inserted: 0, skipped: 0, refused: 0, batches: 0 });
    expect(client.batches).toEqual([]);
  });
});

describe('TestCoordPerfGather (correctness)', () => {
  it('test_gather_all_7_kinds_1000_each_under_7s (7 × n records come back, every kind)', () => {
    const s = store();
    allKinds(s.coord, 200);
    const records = s.coord.gatherRecords();
    for (const kind of RECORD_KINDS) expect(records.some((r) => r.kind === kind), kind).toBe(true);
    // Two reservations per run (one released), so eight records per run.
    expect(records).toHaveLength(200 * 8);
  });

  it('test_gather_single_kind_ignores_other_dirs', () => {
    const s = store();
    allKinds(s.coord, 200);
    const records = s.coord.gatherRecords(['reservation']);
    expect(records).toHaveLength(400);
    expect(records.every((r) => r.kind === 'reservation')).toBe(true);
  });

  it('test_gather_empty_directory_is_fast (an empty store gathers nothing)', () => {
    expect(store().coord.gatherRecords()).toEqual([]);
  });

  it('test_cold_vs_warm_gather_same_directory (both calls return the same records)', () => {
    const s = store();
    for (let i = 0; i < 200; i++) s.coord.reserve({ run_id: `r${i}`, symbols: [`k/${i}.c`] });
    const cold = s.coord.gatherRecords(['reservation']);
    expect(cold).toHaveLength(200);
    expect(s.coord.gatherRecords(['reservation'])).toEqual(cold);
  });
});

describe('TestCoordPerfWriteRemote (correctness)', () => {
  it('test_write_100_records_7_kinds_under_500ms (every record written and kept as remote)', () => {
    const records = remoteRecords(100 / 7 + 1).slice(0, 100);
    const s = store();
    expect(s.coord.writeRemoteRecords(records)).toMatchObject({ inserted: 100, skipped: 0 });
    const back = s.coord.gatherRecords(RECORD_KINDS, { origin: 'colony-remote' });
    expect(back.map((r) => r.record_id).sort()).toEqual(records.map((r) => r.record_id).sort());
  });

  it('test_write_remote_overwrites_are_not_slower_than_first_write (a re-apply skips every record)', () => {
    const records = remoteRecords(72);
    const s = store();
    expect(s.coord.writeRemoteRecords(records).inserted).toBe(records.length);
    expect(s.coord.writeRemoteRecords(records)).toMatchObject({ inserted: 0, skipped: records.length });
  });

  it('test_write_remote_payload_scaling (50 B to 50 KiB payloads all applied)', () => {
    for (const [bytes, n] of [[50, 500], [1024, 500], [10 * 1024, 200], [50 * 1024, 50]] as const) {
      const s = store();
      expect(s.coord.writeRemoteRecords(paddedReservations(n, bytes))).toMatchObject({ inserted: n, skipped: 0 });
    }
  });
});

describe('TestCoordPerfGC (correctness)', () => {
  it('test_gc_1000_expired_reservations_under_3s', () => {
    const s = store();
    for (let i = 0; i < 1000; i++) s.coord.reserve({ run_id: `run-${i}`, symbols: [`drivers/block/hd_${i}.c::init`], ttl_seconds: 1 });
    s.clock.advance(10_000);
    expect(s.coord.gc().reservations_removed).toBe(1000);
    expect(s.coord.gatherRecords(['reservation'])).toEqual([]);
  });

  it('test_gc_1000_released_reservations_under_4s', () => {
    const s = store();
    for (let i = 0; i < 1000; i++) {
      const r = s.coord.reserve({ run_id: `run-${i}`, symbols: [`net/ipv4/tcp_${i}.c::send`], ttl_seconds: 1 }) as { reservation_id: string };
      s.coord.release({ run_id: `run-${i}`, reservation_id: r.reservation_id });
    }
    s.clock.advance(10_000);
    expect(s.coord.gc()).toMatchObject({ reservations_removed: 1000, releases_removed: 1000 });
  });

  it('test_gc_dry_run_is_not_slower_than_live_run (a dry run counts what a live run removes, and removes nothing)', () => {
    const s = store();
    for (let i = 0; i < 300; i++) s.coord.reserve({ run_id: `run-${i}`, symbols: [`f${i}.c`], ttl_seconds: 1 });
    s.clock.advance(10_000);
    const dry = s.coord.gc({ dryRun: true });
    expect(dry.reservations_removed).toBe(300);
    expect(s.coord.gatherRecords(['reservation'])).toHaveLength(300);
    expect(s.coord.gc()).toEqual(dry);
  });

  it('test_gc_empty_repo_is_fast (nothing to collect)', () => {
    expect(Object.values(store().coord.gc({ dryRun: true })).every((n) => n === 0)).toBe(true);
  });
});
