import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SqliteHubStore } from '../../src/hub/sqlite-store.js';
import { PgHubStore } from '../../src/hub/pg-store.js';
import type { HubStore } from '../../src/hub/store.js';
import { buildHub } from '../../src/hub/server.js';
import { initIdentity, type Identity } from '../../src/hub/identity.js';
import { authorizationHeader } from '../../src/hub/signature.js';
import { HubClient } from '../../src/coord/sync/hub-client.js';
import { pull, push, syncClient } from '../../src/coord/sync/index.js';
import { makeRecord } from '../../src/coord/records.js';
import { CoordService } from '../../src/coord/service.js';
import { openDatabase } from '../../src/lib/sqlite.js';
import { colonyMigrations } from '../../src/daemon/migrations.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { tempDir } from '../helpers/repo.js';
import { PG_URL, dropSchema, pgAvailable, schemaName } from '../helpers/pg.js';

let pgOk = false;
beforeAll(async () => {
  pgOk = await pgAvailable();
});
let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const backends: { name: string; open: () => Promise<HubStore> }[] = [
  {
    name: 'sqlite',
    open: async () => {
      const t = tempDir();
      const s = new SqliteHubStore(join(t.dir, 'hub.db'));
      await s.init();
      cleanups.push(t.cleanup, () => s.close());
      return s;
    },
  },
  {
    name: 'postgres',
    open: async () => {
      const schema = schemaName();
      const s = new PgHubStore(PG_URL, schema);
      await s.init();
      cleanups.push(() => dropSchema(schema), () => s.close());
      return s;
    },
  },
];

async function hubOn(store: HubStore, allowUnsigned = false): Promise<string> {
  const app = buildHub({ store, logger: silentLogger(), allowUnsigned });
  await app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => app.close());
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

/** A colony: its own directory, store and (optionally) key. */
function colonyAt(signed: boolean): { dir: string; coord: CoordService; clock: ManualClock; identity?: Identity } {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const db = openDatabase(join(t.dir, 'colony.db'), { migrations: colonyMigrations });
  cleanups.push(() => db.close());
  const clock = new ManualClock(Date.now());
  return { dir: t.dir, coord: new CoordService({ db, clock }), clock, identity: signed ? initIdentity(join(t.dir, 'identity.key')).identity : undefined };
}

describe.each(backends)('ownership on the $name hub', (backend) => {
  const skip = (): boolean => backend.name === 'postgres' && !pgOk;

  it("refuses another colony's release, intent, heartbeat and claim under someone else's run; refuses a forged record_id", async (ctx) => {
    if (skip()) return ctx.skip();
    const store = await backend.open();
    const url = await hubOn(store);
    const a = colonyAt(true);
    const b = colonyAt(true);
    for (const c of [a, b]) await store.addKey('own/app', c.identity!.publicKey, c.identity!.keyId);
    const clientA = new HubClient({ hubUrl: url, repoId: 'own/app', identity: a.identity });
    const clientB = new HubClient({ hubUrl: url, repoId: 'own/app', identity: b.identity });
    const held = a.coord.reserve({ run_id: 'run-a', symbols: ['src/x.ts'] }) as { reservation_id: string };
    expect(await push(a.coord, clientA, { origin: a.identity!.keyId })).toMatchObject({ inserted: 1, refused: 0 });

    // B forges records about A's reservation and run.
    const t = Date.now();
    const forged = [
      makeRecord('release', 'run-a', { release_id: 'rel_x', reservation_id: held.reservation_id, run_id: 'run-a', released_at: t }, t, null),
      makeRecord('release', 'run-b', { release_id: 'rel_y', reservation_id: held.reservation_id, run_id: 'run-b', released_at: t }, t, null),
      makeRecord('intent', 'run-a', { intent_id: 'int_x', run_id: 'run-a', reservation_id: held.reservation_id, operation: 'delete', target: 'src/x.ts' }, t, null),
      makeRecord('heartbeat', 'run-a', { run_id: 'run-a', extended_expires_at: t + 9e6 }, t, t + 9e6),
      makeRecord('claim', 'run-a', { task_id: 'task_1', claimer_run_id: 'run-a', claimed_at: t, expires_at: t, abandoned: true }, t, t),
      makeRecord('dependency', 'run-a', { reservation_id: held.reservation_id, depends_on: [] }, t, null),
    ];
    const r = await clientB.push(forged);
    expect(r.inserted).toBe(0);
    expect(r.refused!.map((x) => x.reason)).toEqual([
      `res ${held.reservation_id} belongs to another colony`,
      `res ${held.reservation_id} belongs to another colony`,
      `res ${held.reservation_id} belongs to another colony`,
      'run run-a belongs to another colony',
      'run run-a belongs to another colony',
      `res ${held.reservation_id} belongs to another colony`,
    ]);
    // A's own release is accepted.
    a.coord.release({ run_id: 'run-a', reservation_id: held.reservation_id });
    expect(await push(a.coord, clientA, { origin: a.identity!.keyId })).toMatchObject({ inserted: 1, refused: 0 });

    // A record_id that is not the content hash of kind + payload is refused outright.
    const path = '/v1/repos/own/app/records';
    const bad = makeRecord('task', 'run-b', { task_id: 't', n: 1 }, t, null);
    const body = JSON.stringify({ records: [{ ...bad, payload: { ...bad.payload, n: 2 } }] });
    const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: authorizationHeader(b.identity!.keyId, b.identity!.privateKey, 'POST', path, body) }, body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.message).toMatch(/records\[0\]\.record_id is not the content hash/);
  });
});

describe('ownership in a colony (records pulled from a hub that did not check)', () => {
  it("a peer's release, intent, heartbeat or claim abandon cannot touch this colony's reservation or claim", () => {
    const here = colonyAt(false);
    const held = here.coord.reserve({ run_id: 'mine', symbols: ['a.ts'], ttl_seconds: 60 }) as { reservation_id: string };
    const task = here.coord.taskCreate({ run_id: 'mine', description: 'd' });
    here.coord.taskClaim({ run_id: 'mine', task_id: task.task_id, ttl_seconds: 60 });
    const t = here.clock.now();
    const evil = [
      makeRecord('release', 'mine', { release_id: 'rel_e', reservation_id: held.reservation_id, run_id: 'mine', released_at: t }, t, null, 'peer'),
      makeRecord('intent', 'mine', { intent_id: 'int_e', run_id: 'mine', reservation_id: held.reservation_id, operation: 'delete', target: 'a.ts' }, t, null, 'peer'),
      makeRecord('heartbeat', 'mine', { run_id: 'mine', extended_expires_at: t + 3_600_000 }, t, t + 3_600_000, 'peer'),
      makeRecord('claim', 'mine', { task_id: task.task_id, claimer_run_id: 'mine', claimed_at: t, expires_at: t, abandoned: true }, t, t, 'peer'),
    ];
    const r = here.coord.writeRemoteRecords(evil);
    expect(r.inserted).toBe(0);
    expect(r.refused.map((x) => x.reason)).toEqual([
      `reservation ${held.reservation_id} belongs to another colony`,
      `reservation ${held.reservation_id} belongs to another colony`,
      'run mine belongs to another colony',
      `the claim on ${task.task_id} belongs to another colony`,
    ]);
    expect(here.coord.status().reservations.map((x) => x.reservation_id)).toEqual([held.reservation_id]);
    expect(here.coord.taskClaim({ run_id: 'other', task_id: task.task_id })).toMatchObject({ claimed: false, holder: { run_id: 'mine' } });
    // A release that arrives before a peer's reservation frees it only if it came from that peer and run.
    const early = [
      makeRecord('release', 'p', { release_id: 'rel_1', reservation_id: 'res_peer', run_id: 'p', released_at: t }, t, null, 'stranger'),
      makeRecord('reservation', 'p', { reservation_id: 'res_peer', run_id: 'p', symbols: ['b.ts'], mode: 'exclusive', expires_at: t + 60_000 }, t, t + 60_000, 'peer'),
    ];
    expect(here.coord.writeRemoteRecords(early)).toMatchObject({ inserted: 2, refused: [] });
    expect(here.coord.check({ symbols: ['b.ts'] }).holders.map((h) => h.reservation_id)).toEqual(['res_peer']);
    // ... and the heartbeat a stranger sent extends nothing of the peer's: at 61 s it is gone.
    here.clock.advance(61_000);
    expect(here.coord.check({ symbols: ['b.ts'] }).holders).toEqual([]);
  });

  it('gc collects a release or intent whose reservation is gone', () => {
    const here = colonyAt(false);
    const t = here.clock.now();
    here.coord.writeRemoteRecords([
      makeRecord('release', 'p', { release_id: 'rel_o', reservation_id: 'res_gone', run_id: 'p', released_at: t }, t, null, 'peer'),
      makeRecord('intent', 'p', { intent_id: 'int_o', run_id: 'p', reservation_id: 'res_gone', operation: 'modify', target: 'a.ts' }, t, null, 'peer'),
    ]);
    here.clock.advance(1000);
    expect(here.coord.gc({ dryRun: true })).toMatchObject({ releases_removed: 1, intents_removed: 1 });
    expect(here.coord.gc()).toMatchObject({ releases_removed: 1, intents_removed: 1 });
    expect(here.coord.gatherRecords()).toEqual([]);
  });
});

describe('sync semantics', () => {
  it('unsigned colonies get distinct stable origins; push state is per hub and repository id; received counts only news; stateless pulls', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const store = new SqliteHubStore(join(t.dir, 'hub.db'));
    await store.init();
    cleanups.push(() => store.close());
    const url = await hubOn(store, true);
    const a = colonyAt(false);
    const b = colonyAt(false);
    const target = (c: { dir: string }, repoId: string) => ({ hubUrl: url, repoId, identityFile: join(c.dir, 'identity.key') });
    const sa = syncClient(target(a, 'u/one'));
    const sb = syncClient(target(b, 'u/one'));
    expect(sa.origin).toMatch(/^unsigned-[0-9a-f]{16}$/);
    expect(sb.origin).not.toBe(sa.origin);
    expect(syncClient(target(a, 'u/one')).origin).toBe(sa.origin);

    a.coord.reserve({ run_id: 'ra', symbols: ['a.ts'] });
    a.coord.taskCreate({ run_id: 'ra', description: 'x' });
    expect(await push(a.coord, sa.client, { origin: sa.origin })).toMatchObject({ inserted: 2, batches: 1 });
    expect(await push(a.coord, sa.client, { origin: sa.origin })).toMatchObject({ inserted: 0, batches: 0 });
    // A second repository id on the same hub gets everything.
    const second = syncClient(target(a, 'u/two'));
    expect(await push(a.coord, second.client, { origin: second.origin })).toMatchObject({ inserted: 2, batches: 1 });
    // --kinds pushes only those kinds.
    const third = syncClient(target(a, 'u/three'));
    expect(await push(a.coord, third.client, { origin: third.origin, kinds: ['task'] })).toMatchObject({ inserted: 1 });

    // B takes A's records (distinct origins: nothing dropped as its own), then pushes one of its own.
    expect(await pull(b.coord, sb.client, { hub: url, repoId: 'u/one', ownOrigin: sb.origin })).toMatchObject({ received: 2 });
    expect(b.coord.check({ symbols: ['a.ts'] }).holders).toHaveLength(1);
    b.coord.reserve({ run_id: 'rb', symbols: ['b.ts'] });
    await push(b.coord, sb.client, { origin: sb.origin });
    // B's own record comes back: not counted as received.
    expect(await pull(b.coord, sb.client, { hub: url, repoId: 'u/one', ownOrigin: sb.origin })).toMatchObject({ received: 0 });

    // Stateless reads leave the saved cursor alone.
    const c = colonyAt(false);
    const sc = syncClient(target(c, 'u/one'));
    const opts = { hub: url, repoId: 'u/one', ownOrigin: sc.origin };
    expect(await pull(c.coord, sc.client, { ...opts, limit: 1 })).toMatchObject({ received: 1 });
    expect(await pull(c.coord, sc.client, { ...opts, kinds: ['task'] })).toMatchObject({ received: 1 });
    expect(await pull(c.coord, sc.client, { ...opts, since: '2' })).toMatchObject({ received: 1 });
    expect(await pull(c.coord, sc.client, opts)).toMatchObject({ received: 3 });
    expect(await pull(c.coord, sc.client, opts)).toMatchObject({ received: 0 });
  });
});
