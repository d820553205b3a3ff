import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/lib/sqlite.js';
import { colonyMigrations } from '../../src/daemon/migrations.js';
import { ManualClock } from '../../src/lib/clock.js';
import { CoordService } from '../../src/coord/service.js';
import { tempDir } from '../helpers/repo.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.reverse().forEach((c) => c());
  cleanups = [];
});

function open(): { coord: CoordService; clock: ManualClock; db: Db; file: string } {
  const t = tempDir();
  const file = join(t.dir, 'colony.db');
  const db = openDatabase(file, { migrations: colonyMigrations });
  cleanups.push(() => {
    if (db.open) db.close();
    t.cleanup();
  });
  const clock = new ManualClock();
  return { coord: new CoordService({ db, clock }), clock, db, file };
}

const count = (db: Db, table: string): number => (db.prepare(`SELECT COUNT(*) n FROM ${table}`).get() as { n: number }).n;

describe('reservations', () => {
  it('grants non-overlapping reservations and refuses overlapping ones, naming the holder', () => {
    const { coord } = open();
    const a = coord.reserve({ run_id: 'A', symbols: ['src/a.ts::Foo', 'src/b.ts'] });
    expect(a).toMatchObject({ granted: true, reservation_id: expect.stringMatching(/^res_/) });
    expect(coord.reserve({ run_id: 'B', symbols: ['src/a.ts::Bar'] }).granted).toBe(true);
    const clash = coord.reserve({ run_id: 'B', symbols: ['src/a.ts::Foo.method'] });
    expect(clash).toEqual({
      granted: false,
      conflicts: [{ reservation_id: (a as any).reservation_id, run_id: 'A', symbols: ['src/a.ts::Foo', 'src/b.ts'], expires_at: expect.any(String) }],
    });
    // The whole file covers every symbol in it, and the other way round.
    expect(coord.reserve({ run_id: 'C', symbols: ['src/a.ts'] }).granted).toBe(false);
    expect(coord.reserve({ run_id: 'C', symbols: ['src/b.ts::X'] }).granted).toBe(false);
    // A run never conflicts with itself.
    expect(coord.reserve({ run_id: 'A', symbols: ['src/a.ts::Foo'] }).granted).toBe(true);
  });

  it('treats globs: a glob covers matching paths, overlapping globs conflict', () => {
    const { coord } = open();
    expect(coord.reserve({ run_id: 'A', symbols: ['drivers/net/**'] }).granted).toBe(true);
    expect(coord.reserve({ run_id: 'B', symbols: ['drivers/net/e1000/main.c::probe'] }).granted).toBe(false);
    expect(coord.reserve({ run_id: 'B', symbols: ['drivers/usb/core.c'] }).granted).toBe(true);
    expect(coord.reserve({ run_id: 'C', symbols: ['drivers/**/*.h'] }).granted).toBe(false);
    expect(coord.reserve({ run_id: 'C', symbols: ['drivers/usb/*.c'] }).granted).toBe(false); // holds core.c
    expect(coord.reserve({ run_id: 'C', symbols: ['fs/**'] }).granted).toBe(true);
  });

  it('lets shared reservations coexist but not with an exclusive one', () => {
    const { coord } = open();
    expect(coord.reserve({ run_id: 'A', symbols: ['x.ts'], mode: 'shared' }).granted).toBe(true);
    expect(coord.reserve({ run_id: 'B', symbols: ['x.ts'], mode: 'shared' }).granted).toBe(true);
    const ex = coord.reserve({ run_id: 'C', symbols: ['x.ts'] });
    expect(ex.granted).toBe(false);
    expect((ex as any).conflicts.map((c: any) => c.run_id).sort()).toEqual(['A', 'B']);
  });

  it('expires reservations, extends them by heartbeat, and frees them on release', () => {
    const { coord, clock } = open();
    const a = coord.reserve({ run_id: 'A', symbols: ['a.ts'], ttl_seconds: 60 }) as any;
    clock.advance(50_000);
    const hb = coord.heartbeat({ run_id: 'A', ttl_seconds: 120 });
    expect(hb).toMatchObject({ reservations: 1, claims: 0 });
    clock.advance(60_000); // past the original ttl, inside the heartbeat
    expect(coord.reserve({ run_id: 'B', symbols: ['a.ts'] }).granted).toBe(false);
    expect(coord.status({ run_id: 'A' }).reservations[0]).toMatchObject({ reservation_id: a.reservation_id, mode: 'exclusive', expires_at: hb.extended_expires_at });
    clock.advance(61_000);
    expect(coord.status().reservations).toEqual([]);
    expect(coord.reserve({ run_id: 'B', symbols: ['a.ts'] }).granted).toBe(true);
    const b = coord.status({ run_id: 'B' }).reservations[0]!;
    expect(() => coord.release({ run_id: 'A', reservation_id: b.reservation_id })).toThrow(/belongs to run B/);
    expect(coord.release({ run_id: 'B', reservation_id: b.reservation_id })).toEqual({ released: true });
    expect(coord.release({ run_id: 'B', reservation_id: b.reservation_id })).toEqual({ released: false });
    expect(coord.check({ symbols: ['a.ts'] }).holders).toEqual([]);
  });

  it('records intents only inside an active reservation of the same run', () => {
    const { coord } = open();
    const r = coord.reserve({ run_id: 'A', symbols: ['src/a.ts::Foo', 'lib/**'] }) as any;
    expect(coord.intent({ run_id: 'A', reservation_id: r.reservation_id, operation: 'modify', target: 'src/a.ts::Foo.bar' }).intent_id).toMatch(/^int_/);
    expect(coord.intent({ run_id: 'A', reservation_id: r.reservation_id, operation: 'create', target: 'lib/new/x.ts' }).intent_id).toBeTruthy();
    expect(() => coord.intent({ run_id: 'A', reservation_id: r.reservation_id, operation: 'modify', target: 'src/a.ts::Other' })).toThrow(/not inside/);
    expect(() => coord.intent({ run_id: 'A', reservation_id: r.reservation_id, operation: 'explode', target: 'src/a.ts::Foo' })).toThrow(/operation/);
    expect(() => coord.intent({ run_id: 'B', reservation_id: r.reservation_id, operation: 'modify', target: 'src/a.ts::Foo' })).toThrow(/belongs to run A/);
  });

  it('refuses bad input and stores nothing', () => {
    const { coord, db } = open();
    const bad: [unknown, RegExp][] = [
      [{ run_id: 'A', symbols: [] }, /non-empty/],
      [{ run_id: 'A', symbols: ['../etc/passwd'] }, /normalised/],
      [{ run_id: 'A', symbols: ['/abs/path'] }, /relative/],
      [{ run_id: 'A', symbols: ['a.ts::not valid'] }, /dotted identifiers/],
      [{ run_id: 'A', symbols: ['src/**::Foo'] }, /glob cannot name/],
      [{ run_id: 'A', symbols: ['a.ts'], ttl_seconds: -5 }, /ttl_seconds/],
      [{ run_id: 'A', symbols: ['a.ts'], ttl_seconds: 1e9 }, /ttl_seconds/],
      [{ run_id: '', symbols: ['a.ts'] }, /run_id/],
      [{ run_id: 'A', symbols: ['a.ts'], mode: 'greedy' }, /mode/],
    ];
    for (const [input, msg] of bad) expect(() => coord.reserve(input as any)).toThrow(msg);
    expect(() => coord.release({ run_id: 'A', reservation_id: 'res_nope' })).toThrow(/no reservation/);
    expect(count(db, 'coord_records')).toBe(0);
    expect(count(db, 'coord_reservations')).toBe(0);
  });
});

describe('tasks and claims', () => {
  it('orders ready tasks by priority then age, and holds back tasks with open dependencies', () => {
    const { coord, clock } = open();
    const low = coord.taskCreate({ run_id: 'P', description: 'low' }).task_id;
    clock.advance(1);
    const high = coord.taskCreate({ run_id: 'P', description: 'high', priority: 5 }).task_id;
    clock.advance(1);
    const after = coord.taskCreate({ run_id: 'P', description: 'after high', priority: 9, depends_on: [high] }).task_id;
    clock.advance(1);
    const low2 = coord.taskCreate({ run_id: 'P', description: 'low too' }).task_id;
    expect(coord.taskReady().tasks.map((t) => t.task_id)).toEqual([high, low, low2]);
    expect(coord.taskClaim({ run_id: 'W', task_id: after })).toMatchObject({ claimed: false, reason: expect.stringContaining(high) });
    expect(coord.taskClaim({ run_id: 'W', task_id: high }).claimed).toBe(true);
    expect(coord.taskReady().tasks.map((t) => t.task_id)).toEqual([low, low2]);
    expect(coord.taskComplete({ run_id: 'W', task_id: high })).toEqual({ completed: true });
    expect(coord.taskReady().tasks.map((t) => t.task_id)).toEqual([after, low, low2]);
  });

  it('gives a task to one claimer at a time; claims expire, extend by heartbeat, and can be abandoned', () => {
    const { coord, clock } = open();
    const t = coord.taskCreate({ run_id: 'P', description: 'x' }).task_id;
    expect(coord.taskClaim({ run_id: 'A', task_id: t, ttl_seconds: 60 }).claimed).toBe(true);
    expect(coord.taskClaim({ run_id: 'B', task_id: t })).toEqual({ claimed: false, holder: { run_id: 'A', expires_at: expect.any(String) } });
    expect(() => coord.taskComplete({ run_id: 'B', task_id: t })).toThrow(/claimed by run A/);
    clock.advance(50_000);
    expect(coord.heartbeat({ run_id: 'A', ttl_seconds: 60 }).claims).toBe(1);
    clock.advance(30_000);
    expect(coord.taskClaim({ run_id: 'B', task_id: t }).claimed).toBe(false);
    expect(() => coord.taskAbandon({ run_id: 'B', task_id: t })).toThrow(/claimed by run A/);
    expect(coord.taskAbandon({ run_id: 'A', task_id: t })).toEqual({ abandoned: true });
    expect(coord.taskClaim({ run_id: 'B', task_id: t }).claimed).toBe(true);
    clock.advance(601_000);
    expect(coord.taskClaim({ run_id: 'C', task_id: t }).claimed).toBe(true);
  });

  it('adds dependencies, refusing cycles and unknown tasks', () => {
    const { coord } = open();
    const a = coord.taskCreate({ run_id: 'P', description: 'a' }).task_id;
    const b = coord.taskCreate({ run_id: 'P', description: 'b' }).task_id;
    expect(coord.taskDepend({ task_id: b, depends_on: [a] })).toEqual({ task_id: b, depends_on: [a] });
    expect(() => coord.taskDepend({ task_id: a, depends_on: [b] })).toThrow(/cycle/);
    expect(() => coord.taskDepend({ task_id: a, depends_on: ['task_nope'] })).toThrow(/no task/);
    expect(() => coord.taskCreate({ run_id: 'P', description: '' })).toThrow(/description/);
    expect(coord.taskReady().tasks.map((x) => x.task_id)).toEqual([a]);
  });
});

describe('gc', () => {
  it('removes what is dead past the grace period, with dry run counting the same', () => {
    const { coord, clock, db } = open();
    const r1 = coord.reserve({ run_id: 'A', symbols: ['a.ts'], ttl_seconds: 10 }) as any;
    coord.intent({ run_id: 'A', reservation_id: r1.reservation_id, operation: 'modify', target: 'a.ts' });
    const r2 = coord.reserve({ run_id: 'B', symbols: ['b.ts'], ttl_seconds: 1000 }) as any;
    coord.depend({ reservation_id: r1.reservation_id, depends_on: [r2.reservation_id] });
    coord.release({ run_id: 'B', reservation_id: r2.reservation_id });
    coord.heartbeat({ run_id: 'A', ttl_seconds: 10 });
    const t = coord.taskCreate({ run_id: 'P', description: 'x' }).task_id;
    coord.taskClaim({ run_id: 'C', task_id: t, ttl_seconds: 10 });
    const live = coord.reserve({ run_id: 'D', symbols: ['d.ts'], ttl_seconds: 5000 }) as any;
    clock.advance(20_000);
    expect(coord.gc({ graceSeconds: 60, dryRun: true })).toEqual({
      reservations_removed: 0, releases_removed: 0, intents_removed: 0, heartbeats_removed: 0, dependencies_removed: 0, claims_removed: 0,
    });
    clock.advance(60_000);
    const expected = { reservations_removed: 2, releases_removed: 1, intents_removed: 1, heartbeats_removed: 1, dependencies_removed: 1, claims_removed: 1 };
    const before = count(db, 'coord_records');
    expect(coord.gc({ graceSeconds: 60, dryRun: true })).toEqual(expected);
    expect(count(db, 'coord_records')).toBe(before);
    expect(coord.gc({ graceSeconds: 60 })).toEqual(expected);
    expect(coord.status().reservations.map((r) => r.reservation_id)).toEqual([live.reservation_id]);
    // Left: the live reservation and the task.
    expect(count(db, 'coord_records')).toBe(2);
    expect(count(db, 'coord_symbols')).toBe(1);
  });
});

describe('records', () => {
  it('gathers every kind in wire form with content-hash ids', () => {
    const { coord } = open();
    const r = coord.reserve({ run_id: 'A', symbols: ['a.ts'] }) as any;
    coord.intent({ run_id: 'A', reservation_id: r.reservation_id, operation: 'modify', target: 'a.ts' });
    coord.heartbeat({ run_id: 'A' });
    coord.heartbeat({ run_id: 'A', ttl_seconds: 900 }); // replaces the first
    const r2 = coord.reserve({ run_id: 'A', symbols: ['b.ts'] }) as any;
    coord.depend({ reservation_id: r.reservation_id, depends_on: [r2.reservation_id] });
    coord.release({ run_id: 'A', reservation_id: r2.reservation_id });
    const t = coord.taskCreate({ run_id: 'A', description: 'd' }).task_id;
    coord.taskClaim({ run_id: 'A', task_id: t });
    const all = coord.gatherRecords();
    expect(all.map((x) => x.kind).sort()).toEqual(['claim', 'dependency', 'heartbeat', 'intent', 'release', 'reservation', 'reservation', 'task']);
    for (const rec of all) {
      expect(rec).toEqual({ kind: rec.kind, record_id: expect.stringMatching(/^[0-9a-f]{64}$/), run_id: 'A', payload: expect.any(Object), created_at: expect.any(Number), expires_at: rec.expires_at, origin: 'local' });
    }
    expect(coord.gatherRecords(['reservation'])).toHaveLength(2);
    expect(() => coord.gatherRecords(['bogus' as any])).toThrow(/unknown kind/);
  });

  it('counts remote records in conflicts and readiness exactly like local ones, and skips duplicates', () => {
    const here = open();
    const there = open();
    there.clock.set(here.clock.now());
    const r = there.coord.reserve({ run_id: 'R', symbols: ['shared.ts::Api'] }) as any;
    const t = there.coord.taskCreate({ run_id: 'R', description: 'remote task' }).task_id;
    there.coord.taskClaim({ run_id: 'R', task_id: t });
    const records = there.coord.gatherRecords().map((x) => ({ ...x, origin: 'colony-there' }));
    expect(here.coord.writeRemoteRecords(records)).toEqual({ inserted: 3, skipped: 0 });
    expect(here.coord.writeRemoteRecords(records)).toEqual({ inserted: 0, skipped: 3 });
    const clash = here.coord.reserve({ run_id: 'L', symbols: ['shared.ts::Api.get'] });
    expect(clash).toMatchObject({ granted: false, conflicts: [{ reservation_id: r.reservation_id, run_id: 'R' }] });
    expect(here.coord.taskClaim({ run_id: 'L', task_id: t })).toMatchObject({ claimed: false, holder: { run_id: 'R' } });
    expect(here.coord.gatherRecords(undefined, { origin: 'local' })).toEqual([]);
    expect(() => here.coord.writeRemoteRecords([{ ...records[0]!, origin: 'local' }])).toThrow(/origin/);
  });
});
