import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/lib/sqlite.js';
import { colonyMigrations } from '../../src/daemon/migrations.js';
import { ManualClock } from '../../src/lib/clock.js';
import { CoordService } from '../../src/coord/service.js';
import { HubClient, push } from '../../src/coord/sync/index.js';
import { SqliteHubStore } from '../../src/hub/sqlite-store.js';
import { buildHub } from '../../src/hub/server.js';
import { silentLogger } from '../../src/lib/log.js';
import { tempDir } from '../helpers/repo.js';

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A real hub (SQLite, unsigned pushes allowed) on loopback; counts the connections it accepts. */
async function startHub(): Promise<{ url: string; connections: () => number }> {
  const t = tempDir();
  const store = new SqliteHubStore(join(t.dir, 'hub.db'));
  await store.init();
  const app = buildHub({ store, logger: silentLogger(), allowUnsigned: true });
  let connections = 0;
  app.server.on('connection', () => connections++);
  await app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(t.cleanup, () => store.close(), () => app.close());
  return { url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, connections: () => connections };
}

function colony(migrations = colonyMigrations): { coord: CoordService; clock: ManualClock; db: Db; path: string } {
  const t = tempDir();
  const path = join(t.dir, 'colony.db');
  const db = openDatabase(path, { migrations });
  const clock = new ManualClock(Date.now());
  cleanups.push(t.cleanup, () => void db.close());
  return { coord: new CoordService({ db, clock }), clock, db, path };
}

/** A client that counts its requests (each batch is one). */
class CountingClient extends HubClient {
  requests = 0;
  override pushRows(...args: Parameters<HubClient['pushRows']>): ReturnType<HubClient['pushRows']> {
    this.requests++;
    return super.pushRows(...args);
  }
}

describe('push state per hub and repository id', () => {
  it('after a complete push, the next one reads and sends only records written since', async () => {
    const hub = await startHub();
    const c = colony();
    c.db.transaction(() => {
      for (let i = 0; i < 1200; i++) c.coord.reserve({ run_id: 'run-0', symbols: [`src/f${i}.ts`] });
    })();
    const client = new CountingClient({ hubUrl: hub.url, repoId: 'acme/app' });
    expect(await push(c.coord, client, { origin: 'colony-a' })).toMatchObject({ inserted: 1200, batches: 3 });
    const seq = (c.db.prepare('SELECT seq FROM coord_push_watermark').get() as { seq: number }).seq;
    expect(seq).toBe((c.db.prepare('SELECT MAX(seq) m FROM coord_local_seq').get() as { m: number }).m);
    // Nothing new: no request at all.
    expect(await push(c.coord, client, { origin: 'colony-a' })).toMatchObject({ inserted: 0, batches: 0 });
    expect(client.requests).toBe(3);
    c.coord.reserve({ run_id: 'run-0', symbols: ['src/new.ts'] });
    expect(await push(c.coord, client, { origin: 'colony-a' })).toMatchObject({ inserted: 1, skipped: 0, batches: 1 });
    // A second repository id on the same hub has its own watermark: it gets everything.
    expect(await push(c.coord, new HubClient({ hubUrl: hub.url, repoId: 'acme/other' }), { origin: 'colony-a' })).toMatchObject({ inserted: 1201 });
  });

  it('the number of a collected newest record is never given to a later one', async () => {
    const hub = await startHub();
    const c = colony();
    const client = new HubClient({ hubUrl: hub.url, repoId: 'acme/app' });
    c.coord.reserve({ run_id: 'run-0', symbols: ['a.ts'], ttl_seconds: 3600 });
    c.coord.reserve({ run_id: 'run-1', symbols: ['b.ts'], ttl_seconds: 1 });
    expect((await push(c.coord, client, { origin: 'colony-a' })).inserted).toBe(2);
    // The newest record (run-1's reservation) expires and is collected, then a new one is written.
    c.clock.advance(5000);
    expect(c.coord.gc().reservations_removed).toBe(1);
    c.coord.reserve({ run_id: 'run-2', symbols: ['c.ts'] });
    expect(await push(c.coord, client, { origin: 'colony-a' })).toMatchObject({ inserted: 1, batches: 1 });
  });

  it('a push of some kinds leaves the watermark alone; the next full push sends the rest', async () => {
    const hub = await startHub();
    const c = colony();
    const client = new HubClient({ hubUrl: hub.url, repoId: 'acme/app' });
    for (let i = 0; i < 3; i++) c.coord.reserve({ run_id: `run-${i}`, symbols: [`f${i}.ts`] });
    for (let i = 0; i < 2; i++) c.coord.taskCreate({ run_id: `run-${i}`, description: `task ${i}` });
    expect((await push(c.coord, client, { origin: 'colony-a', kinds: ['task'] })).inserted).toBe(2);
    expect(c.db.prepare('SELECT COUNT(*) n FROM coord_push_watermark').get()).toEqual({ n: 0 });
    expect(await push(c.coord, client, { origin: 'colony-a' })).toMatchObject({ inserted: 3, skipped: 0 });
    expect(await push(c.coord, client, { origin: 'colony-a' })).toMatchObject({ inserted: 0, batches: 0 });
  });

  it('migration 16 numbers the local records a colony already had, in the order they were written', async () => {
    const hub = await startHub();
    const before = colony(colonyMigrations.filter((m) => m.version < 16));
    for (let i = 0; i < 5; i++) before.coord.reserve({ run_id: `run-${i}`, symbols: [`f${i}.ts`] });
    before.db.close();
    const db = openDatabase(before.path, { migrations: colonyMigrations });
    cleanups.push(() => void db.close());
    const coord = new CoordService({ db, clock: before.clock });
    expect(db.prepare('SELECT COUNT(*) n FROM coord_local_seq').get()).toEqual({ n: 5 });
    expect((await push(coord, new HubClient({ hubUrl: hub.url, repoId: 'acme/app' }), { origin: 'colony-a' })).inserted).toBe(5);
  });

  it('sequential pushes reuse one kept-alive connection', async () => {
    const hub = await startHub();
    const c = colony();
    const client = new HubClient({ hubUrl: hub.url, repoId: 'acme/app' });
    for (let i = 0; i < 20; i++) {
      c.coord.reserve({ run_id: 'run-0', symbols: [`seq/${i}.ts`] });
      expect((await push(c.coord, client, { origin: 'colony-a' })).inserted).toBe(1);
    }
    expect(hub.connections()).toBe(1);
    client.close();
  });

  it('an attempt the hub never answers times out and is retried, then reported unreachable', async () => {
    let requests = 0;
    const silent: Server = createServer(() => requests++);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => (silent.closeAllConnections(), silent.close(() => r()))));
    const c = colony();
    c.coord.reserve({ run_id: 'run-0', symbols: ['a.ts'] });
    const client = new HubClient({ hubUrl: `http://127.0.0.1:${(silent.address() as { port: number }).port}`, repoId: 'acme/app', timeoutMs: 200, retries: 1, backoffMs: 10 });
    await expect(push(c.coord, client, { origin: 'colony-a' })).rejects.toThrow(/unreachable.*no answer within 200 ms/);
    expect(requests).toBe(2);
    expect(c.db.prepare('SELECT COUNT(*) n FROM coord_push_watermark').get()).toEqual({ n: 0 });
  });
});
