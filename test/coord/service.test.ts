import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/lib/sqlite.js';
import { colonyMigrations } from '../../src/daemon/migrations.js';
import { ManualClock } from '../../src/lib/clock.js';
import { CoordService } from '../../src/coord/service.js';
import { canonicalJson } from '../../src/coord/records.js';
import { ForbiddenError, InvalidInputError, NotFoundError } from '../../src/lib/errors.js';
import { sha256Hex } from '../../src/lib/ids.js';
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
    expect(here.coord.writeRemoteRecords(records)).toMatchObject({ inserted: 3, skipped: 0 });
    expect(here.coord.writeRemoteRecords(records)).toMatchObject({ inserted: 0, skipped: 3 });
    const clash = here.coord.reserve({ run_id: 'L', symbols: ['shared.ts::Api.get'] });
    expect(clash).toMatchObject({ granted: false, conflicts: [{ reservation_id: r.reservation_id, run_id: 'R' }] });
    expect(here.coord.taskClaim({ run_id: 'L', task_id: t })).toMatchObject({ claimed: false, holder: { run_id: 'R' } });
    expect(here.coord.gatherRecords(undefined, { origin: 'local' })).toEqual([]);
    expect(() => here.coord.writeRemoteRecords([{ ...records[0]!, origin: 'local' }])).toThrow(/origin/);
  });
});

describe('reservation edge cases', () => {
  it('a late heartbeat does not revive an expired reservation or claim that another run took over', () => {
    const { coord, clock } = open();
    coord.reserve({ run_id: 'A', symbols: ['x.ts'], ttl_seconds: 10 });
    const t = coord.taskCreate({ run_id: 'P', description: 't' }).task_id;
    coord.taskClaim({ run_id: 'A', task_id: t, ttl_seconds: 10 });
    clock.advance(20_000);
    expect(coord.reserve({ run_id: 'B', symbols: ['x.ts'] }).granted).toBe(true);
    expect(coord.heartbeat({ run_id: 'A' })).toMatchObject({ reservations: 0, claims: 0 });
    expect(coord.status().reservations.map((r) => r.run_id)).toEqual(['B']);
    expect(coord.taskClaim({ run_id: 'B', task_id: t }).claimed).toBe(true);
  });

  it('shared globs coexist; an exclusive path inside a shared glob conflicts; check names holders of every mode', () => {
    const { coord } = open();
    expect(coord.reserve({ run_id: 'A', symbols: ['docs/**'], mode: 'shared' }).granted).toBe(true);
    expect(coord.reserve({ run_id: 'B', symbols: ['docs/api/**'], mode: 'shared' }).granted).toBe(true);
    const ex = coord.reserve({ run_id: 'C', symbols: ['docs/api/index.md'] });
    expect(ex.granted).toBe(false);
    expect((ex as any).conflicts.map((c: any) => c.run_id).sort()).toEqual(['A', 'B']);
    expect(coord.check({ symbols: ['docs/intro.md'] }).holders.map((h) => h.run_id)).toEqual(['A']);
    expect(coord.check({ symbols: ['src/a.ts'] }).holders).toEqual([]);
    expect(coord.status({ run_id: 'B' }).reservations).toEqual([
      { reservation_id: expect.any(String), run_id: 'B', symbols: ['docs/api/**'], expires_at: expect.any(String), mode: 'shared' },
    ]);
  });

  it('a glob reservation is refused while a matching file is held, and a file while a glob covers it', () => {
    const { coord } = open();
    expect(coord.reserve({ run_id: 'A', symbols: ['src/net/tcp.c::connect'] }).granted).toBe(true);
    expect(coord.reserve({ run_id: 'B', symbols: ['src/net/*.c'] }).granted).toBe(false);
    expect(coord.reserve({ run_id: 'B', symbols: ['src/net/*.h'] }).granted).toBe(true);
    expect(coord.reserve({ run_id: 'C', symbols: ['src/net/tcp.h::Header'] }).granted).toBe(false);
  });

  it('refuses intents on released or expired reservations, and records none', () => {
    const { coord, clock, db } = open();
    const r = coord.reserve({ run_id: 'A', symbols: ['a.ts'], ttl_seconds: 10 }) as any;
    clock.advance(11_000);
    expect(() => coord.intent({ run_id: 'A', reservation_id: r.reservation_id, operation: 'modify', target: 'a.ts' })).toThrow(/no longer active/);
    const r2 = coord.reserve({ run_id: 'A', symbols: ['b.ts'] }) as any;
    coord.release({ run_id: 'A', reservation_id: r2.reservation_id });
    expect(() => coord.intent({ run_id: 'A', reservation_id: r2.reservation_id, operation: 'delete', target: 'b.ts' })).toThrow(/no longer active/);
    expect(count(db, 'coord_intents')).toBe(0);
  });

  it('keeps one copy of a symbol named twice', () => {
    const { coord } = open();
    const r = coord.reserve({ run_id: 'A', symbols: ['a.ts', 'a.ts', 'b.ts'] }) as any;
    expect(coord.status().reservations[0]).toMatchObject({ reservation_id: r.reservation_id, symbols: ['a.ts', 'b.ts'] });
  });
});

describe('bad input on every operation', () => {
  it('throws the matching error class with a clear message and stores nothing', () => {
    const { coord, clock, db } = open();
    const r = coord.reserve({ run_id: 'A', symbols: ['a.ts'] }) as any;
    const t = coord.taskCreate({ run_id: 'P', description: 'x' }).task_id;
    coord.taskClaim({ run_id: 'A', task_id: t });
    const before = count(db, 'coord_records');
    const cases: [() => unknown, new (...a: any[]) => Error, RegExp][] = [
      [() => coord.reserve({ run_id: 'B', symbols: ['a.ts'], ttl_seconds: 0.5 }), InvalidInputError, /ttl_seconds: must be between 1 and 86400/],
      [() => coord.reserve({ run_id: 'B', symbols: 'a.ts' as any }), InvalidInputError, /symbols: must be a non-empty array/],
      [() => coord.reserve({ run_id: 'B', symbols: [42 as any] }), InvalidInputError, /non-empty string/],
      [() => coord.reserve({ run_id: 'B', symbols: ['a.ts\n'] }), InvalidInputError, /control characters/],
      [() => coord.reserve({ run_id: 'B', symbols: Array.from({ length: 1001 }, (_, i) => `f${i}.ts`) }), InvalidInputError, /at most 1000/],
      [() => coord.release({ run_id: 'B', reservation_id: r.reservation_id }), ForbiddenError, /belongs to run A, not B/],
      [() => coord.release({ run_id: 'A', reservation_id: '' }), InvalidInputError, /reservation_id: required/],
      [() => coord.heartbeat({ run_id: 'A', ttl_seconds: -1 }), InvalidInputError, /ttl_seconds/],
      [() => coord.heartbeat({ run_id: 'A', ttl_seconds: 86_401 }), InvalidInputError, /ttl_seconds/],
      [() => coord.intent({ run_id: 'A', reservation_id: 'res_nope', operation: 'modify', target: 'a.ts' }), NotFoundError, /no reservation res_nope/],
      [() => coord.intent({ run_id: 'A', reservation_id: r.reservation_id, operation: 'modify', target: '../a.ts' }), InvalidInputError, /^target:/],
      [() => coord.depend({ reservation_id: r.reservation_id, depends_on: ['res_nope'] }), NotFoundError, /no reservation res_nope/],
      [() => coord.depend({ reservation_id: r.reservation_id, depends_on: [r.reservation_id] }), InvalidInputError, /itself/],
      [() => coord.check({ symbols: [] }), InvalidInputError, /non-empty/],
      [() => coord.taskCreate({ run_id: 'P', description: 'y', priority: 1.5 }), InvalidInputError, /priority/],
      [() => coord.taskCreate({ run_id: 'P', description: 'y', depends_on: ['task_nope'] }), NotFoundError, /no task task_nope/],
      [() => coord.taskClaim({ run_id: 'B', task_id: 'task_nope' }), NotFoundError, /no task task_nope/],
      [() => coord.taskClaim({ run_id: 'B', task_id: t, ttl_seconds: 1e9 }), InvalidInputError, /ttl_seconds/],
      [() => coord.taskComplete({ run_id: 'B', task_id: t }), ForbiddenError, /claimed by run A/],
      [() => coord.taskAbandon({ run_id: 'B', task_id: t }), ForbiddenError, /claimed by run A, not B/],
      [() => coord.taskDepend({ task_id: t, depends_on: [] }), InvalidInputError, /at least 1/],
      [() => coord.taskDepend({ task_id: t, depends_on: [t] }), InvalidInputError, /itself/],
      [() => coord.taskReady({ limit: 0 }), InvalidInputError, /limit/],
      [() => coord.gc({ graceSeconds: -1 }), InvalidInputError, /grace/],
    ];
    for (const [call, cls, msg] of cases) {
      let thrown: unknown;
      try {
        call();
      } catch (err) {
        thrown = err;
      }
      expect(thrown, String(call)).toBeInstanceOf(cls);
      expect((thrown as Error).message).toMatch(msg);
    }
    clock.advance(1);
    expect(count(db, 'coord_records')).toBe(before);
    expect(count(db, 'coord_reservations')).toBe(1);
    expect(count(db, 'coord_tasks')).toBe(1);
  });
});

describe('atomicity', () => {
  it('a failure in the middle of a reserve leaves no part of it behind', () => {
    const { coord, db } = open();
    // A real SQLite failure after the record, the reservation row and its first symbol are written.
    db.exec(`CREATE TEMP TRIGGER boom BEFORE INSERT ON coord_symbols WHEN NEW.path = 'boom.ts' BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
    expect(() => coord.reserve({ run_id: 'A', symbols: ['ok.ts', 'boom.ts'] })).toThrow(/disk says no/);
    for (const table of ['coord_records', 'coord_reservations', 'coord_symbols']) expect(count(db, table)).toBe(0);
    db.exec('DROP TRIGGER boom');
    expect(coord.reserve({ run_id: 'B', symbols: ['ok.ts'] }).granted).toBe(true);
  });

  it('a remote batch with one record lacking its origin stores none of the batch', () => {
    const there = open();
    there.coord.reserve({ run_id: 'R', symbols: ['a.ts'] });
    there.coord.taskCreate({ run_id: 'R', description: 'x' });
    const records = there.coord.gatherRecords().map((x) => ({ ...x, origin: 'colony-there' }));
    const here = open();
    expect(() => here.coord.writeRemoteRecords([...records, { ...records[0]!, origin: '' }])).toThrow(InvalidInputError);
    expect(count(here.db, 'coord_records')).toBe(0);
  });
});

describe('record log', () => {
  it('record_id is the sha256 of kind and canonical JSON payload, whatever the key order', () => {
    const { coord } = open();
    coord.reserve({ run_id: 'A', symbols: ['a.ts'] });
    coord.taskCreate({ run_id: 'A', description: 'd', priority: 3 });
    for (const rec of coord.gatherRecords()) {
      expect(rec.record_id).toBe(sha256Hex(`${rec.kind}\n${canonicalJson(rec.payload)}`));
      const reversed = Object.fromEntries(Object.entries(rec.payload).reverse());
      expect(sha256Hex(`${rec.kind}\n${canonicalJson(reversed)}`)).toBe(rec.record_id);
    }
  });

  it('gathers page by page after a cursor, oldest first, without gaps or repeats', () => {
    const { coord, clock } = open();
    for (let i = 0; i < 25; i++) {
      coord.reserve({ run_id: `r${i}`, symbols: [`f${i}.ts`] });
      if (i % 3 === 0) clock.advance(1); // several records share a millisecond
    }
    const all = coord.gatherRecords(['reservation']);
    const paged: string[] = [];
    let after: { created_at: number; record_id: string } | undefined;
    for (;;) {
      const page = coord.gatherRecords(['reservation'], { after, limit: 7 });
      paged.push(...page.map((r) => r.record_id));
      if (page.length < 7) break;
      after = page[page.length - 1]!;
    }
    expect(paged).toEqual(all.map((r) => r.record_id));
    expect(all).toHaveLength(25);
  });

  it('a release pulled before its reservation still frees it; remote heartbeats extend remote reservations', () => {
    const there = open();
    const here = open();
    there.clock.set(here.clock.now());
    const kept = there.coord.reserve({ run_id: 'R', symbols: ['kept.ts'], ttl_seconds: 60 }) as any;
    const gone = there.coord.reserve({ run_id: 'R', symbols: ['gone.ts'] }) as any;
    there.coord.release({ run_id: 'R', reservation_id: gone.reservation_id });
    there.clock.advance(30_000);
    there.coord.heartbeat({ run_id: 'R', ttl_seconds: 600 });
    const records = there.coord.gatherRecords().map((x) => ({ ...x, origin: 'colony-there' }));
    // Worst order: tombstone and heartbeat first (hub batches may cross).
    const order = ['release', 'heartbeat', 'reservation'];
    records.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
    expect(here.coord.writeRemoteRecords(records)).toMatchObject({ inserted: 4, skipped: 0 });
    here.clock.advance(120_000); // past the 60 s ttl, inside the heartbeat
    expect(here.coord.status().reservations.map((r) => r.reservation_id)).toEqual([kept.reservation_id]);
    expect(here.coord.reserve({ run_id: 'L', symbols: ['gone.ts'] }).granted).toBe(true);
    expect(here.coord.reserve({ run_id: 'L', symbols: ['kept.ts'] }).granted).toBe(false);
  });

  it('a remote completion readies local dependents; malformed remote payloads are skipped', () => {
    const there = open();
    const here = open();
    const dep = there.coord.taskCreate({ run_id: 'R', description: 'remote first' }).task_id;
    here.coord.writeRemoteRecords(there.coord.gatherRecords(['task']).map((x) => ({ ...x, origin: 'colony-there' })));
    const mine = here.coord.taskCreate({ run_id: 'L', description: 'after remote', depends_on: [dep] }).task_id;
    expect(here.coord.taskReady().tasks.map((t) => t.task_id)).toEqual([dep]);
    there.coord.taskComplete({ run_id: 'R', task_id: dep });
    const done = there.coord.gatherRecords(['task']).map((x) => ({ ...x, origin: 'colony-there' }));
    const bogus = { ...done[0]!, record_id: 'f'.repeat(64), payload: { task_id: 'task_x' } };
    expect(here.coord.writeRemoteRecords([...done, bogus])).toMatchObject({ inserted: 1, skipped: 1 });
    expect(here.coord.taskReady().tasks.map((t) => t.task_id)).toEqual([mine]);
  });
});

describe('task reserve', () => {
  it('keeps the files a task will touch through rewrites, lists a run’s tasks, and refuses bad symbols', () => {
    const { coord } = open();
    const a = coord.taskCreate({ run_id: 'planner', description: 'a', reserve: ['src/a.ts', 'src/a.ts', 'lib/**'] }).task_id;
    const b = coord.taskCreate({ run_id: 'planner', description: 'b', depends_on: [a] }).task_id;
    coord.taskCreate({ run_id: 'other', description: 'c' });
    expect(coord.taskGet(a)).toMatchObject({ reserve: ['src/a.ts', 'lib/**'], completed_at: null });
    expect(coord.taskGet(b)?.reserve).toEqual([]);
    coord.taskComplete({ run_id: 'planner', task_id: a });
    expect(coord.taskGet(a)).toMatchObject({ reserve: ['src/a.ts', 'lib/**'], completed_at: expect.any(String) });
    expect(coord.tasksOfRun({ run_id: 'planner' }).map((t) => t.task_id).sort()).toEqual([a, b].sort());
    expect(coord.taskGet('task_none')).toBeUndefined();
    expect(() => coord.taskCreate({ run_id: 'p', description: 'x', reserve: ['src/[a'] })).toThrow(InvalidInputError);
    expect(() => coord.taskCreate({ run_id: 'p', description: 'x', reserve: Array.from({ length: 101 }, (_, i) => `f${i}`) })).toThrow(/reserve: an array of at most 100/);
    // A task without reserve hashes as before: no reserve key in its record.
    const rec = coord.gatherRecords(['task']).find((r) => (r.payload as { task_id: string }).task_id === b)!;
    expect(Object.keys(rec.payload)).not.toContain('reserve');
  });
});
