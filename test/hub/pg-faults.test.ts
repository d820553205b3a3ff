import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PgHubStore } from '../../src/hub/pg-store.js';
import { buildHub } from '../../src/hub/server.js';
import { initIdentity } from '../../src/hub/identity.js';
import { HubClient } from '../../src/coord/sync/hub-client.js';
import { push } from '../../src/coord/sync/index.js';
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

describe('PostgreSQL hub faults', () => {
  it('backend connections terminated mid-push: the hub keeps serving, the push completes after retries, nothing lost or doubled', async (ctx) => {
    if (!pgOk) return ctx.skip();
    const schema = schemaName();
    const appName = `colony-fault-${randomBytes(4).toString('hex')}`;
    const store = new PgHubStore(PG_URL, schema, appName);
    await store.init();
    cleanups.push(() => dropSchema(schema), () => store.close());
    const hub = buildHub({ store, logger: silentLogger() });
    await hub.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => hub.close());
    const url = `http://127.0.0.1:${(hub.server.address() as { port: number }).port}`;

    const t = tempDir();
    cleanups.push(t.cleanup);
    const { identity } = initIdentity(join(t.dir, 'identity.key'));
    await store.addKey('fault/pg', identity.publicKey, identity.keyId);
    const db = openDatabase(join(t.dir, 'colony.db'), { migrations: colonyMigrations });
    cleanups.push(() => db.close());
    const coord = new CoordService({ db, clock: new ManualClock(Date.now()) });
    db.transaction(() => {
      for (let i = 0; i < 5000; i++) coord.reserve({ run_id: `run-${i}`, symbols: [`f/${i}.ts`] });
    })();

    // From a separate connection, terminate every backend of this hub.
    const killer = new pg.Client({ connectionString: PG_URL });
    await killer.connect();
    cleanups.push(() => killer.end());
    let terminated = 0;
    const kill = async (): Promise<void> => {
      const r = await killer.query('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1', [appName]);
      terminated += r.rows.filter((x) => x.ok).length;
    };
    // Once the push is under way (a few rounds, catching transactions and idle connections)
    // and after each of its first batches.
    let rounds = 0;
    let done = false;
    const loop = (async () => {
      while (!done && rounds < 6) {
        await kill();
        if (terminated > 0) rounds++;
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    const client = new HubClient({ hubUrl: url, repoId: 'fault/pg', identity, retries: 12, backoffMs: 50 });
    let batches = 0;
    const result = await push(coord, client, { origin: identity.keyId, onProgress: () => void (++batches <= 3 && kill()) }).finally(() => (done = true));
    await loop;
    expect(terminated).toBeGreaterThan(0);
    expect(result.batches).toBe(10);
    expect(result.inserted + result.skipped).toBe(5000);

    // Every record exactly once: read back the whole log.
    const ids: string[] = [];
    let since = 0n;
    for (;;) {
      const page = await store.read('fault/pg', since, undefined, 1000);
      ids.push(...page.bodies.map((b) => JSON.parse(b).record_id as string));
      since = BigInt(page.cursor);
      if (!page.more) break;
    }
    expect(ids).toHaveLength(5000);
    expect(new Set(ids)).toEqual(new Set(coord.gatherRecords(['reservation']).map((r) => r.record_id)));
    expect((await fetch(`${url}/health`)).status).toBe(200);
  }, 120_000);

  it('answers 503 (and keeps serving) while its database cannot be reached', async () => {
    // Nothing listens on port 1: every connection attempt is refused.
    const store = new PgHubStore('postgres://postgres@127.0.0.1:1/none');
    cleanups.push(() => store.close());
    const hub = buildHub({ store, logger: silentLogger(), allowUnsigned: true });
    await hub.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => hub.close());
    const url = `http://127.0.0.1:${(hub.server.address() as { port: number }).port}`;
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${url}/v1/repos/a/b/records`);
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
      expect(((await r.json()) as any).error.code).toBe('unavailable');
    }
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });
});
