import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '@msgpack/msgpack';
import { openDatabase } from '../src/lib/sqlite.js';
import { colonyMigrations } from '../src/daemon/migrations.js';
import { ManualClock } from '../src/lib/clock.js';
import { CoordService } from '../src/coord/service.js';
import { HubClient } from '../src/coord/sync/hub-client.js';
import { pull, push } from '../src/coord/sync/sync.js';
import { initIdentity, type Identity } from '../src/hub/identity.js';
import { SqliteHubStore } from '../src/hub/sqlite-store.js';
import { PgHubStore } from '../src/hub/pg-store.js';
import { makeRecord } from '../src/coord/records.js';
import type { WireRecord } from '../src/coord/wire.js';
import { median, timeMs, type BenchResult } from './lib.js';
import { spawnColony, type ColonyProcess } from './colony-process.js';

const PG = process.env.COLONY_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

function tmp(prefix: string): string {
  return realpathSync(mkdtempSync(join(tmpdir(), prefix)));
}

function startHub(db: string): Promise<ColonyProcess> {
  return spawnColony(['hub', 'serve', '--port', '0', '--db', db]);
}

/** A colony with 1,000 records of each of the seven kinds (7,000 to push). */
function colonyWith7000(dir: string): CoordService {
  const db = openDatabase(join(dir, 'colony.db'), { migrations: colonyMigrations });
  const coord = new CoordService({ db, clock: new ManualClock(Date.now()) });
  db.transaction(() => {
    for (let i = 0; i < 1000; i++) {
      const a = coord.reserve({ run_id: `run${i}`, symbols: [`src/m${i}/a.ts::F`] }) as { reservation_id: string };
      coord.intent({ run_id: `run${i}`, reservation_id: a.reservation_id, operation: 'modify', target: `src/m${i}/a.ts::F` });
      coord.heartbeat({ run_id: `run${i}` });
      coord.depend({ reservation_id: a.reservation_id, depends_on: [] });
      coord.release({ run_id: `run${i}`, reservation_id: a.reservation_id });
      const t = coord.taskCreate({ run_id: `run${i}`, description: `task ${i}` }).task_id;
      coord.taskClaim({ run_id: `run${i}`, task_id: t });
    }
  })();
  return coord;
}

/**
 * Push 7,000 records from a fresh colony to a running hub, three times (each to its own
 * repository), after one warm-up push: a hub is a long-running service.
 */
async function pushFigure(hubDb: string, register: (id: Identity, repos: string[]) => Promise<void>, label: string, format: 'json' | 'msgpack' = 'json'): Promise<{ rate: number; ms: number }> {
  const times: number[] = [];
  const hub = await startHub(hubDb);
  try {
    for (let round = 0; round < 4; round++) {
      const dir = tmp('colony-bench-push-');
      const coord = colonyWith7000(dir);
      const n = (coord.store.db.prepare("SELECT COUNT(*) n FROM coord_records WHERE origin = 'local'").get() as { n: number }).n;
      if (n !== 7000) throw new Error(`expected 7,000 records, have ${n}`);
      const { identity } = initIdentity(join(dir, 'identity.key'));
      const repo = `bench/${label}-${Date.now()}-${round}`;
      await register(identity, [repo]);
      try {
        const client = new HubClient({ hubUrl: hub.url, repoId: repo, identity, format });
        const ms = await timeMs(async () => {
          const r = await push(coord, client, { origin: identity.keyId });
          if (r.inserted !== 7000) throw new Error(`hub inserted ${r.inserted}`);
        });
        if (round > 0) times.push(ms);
      } finally {
        coord.store.db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await hub.stop();
  }
  const ms = median(times);
  return { rate: 7000 / (ms / 1000), ms };
}

function synthetic(n: number): WireRecord[] {
  return Array.from({ length: n }, (_, i) =>
    makeRecord('reservation', `run-${i % 997}`, { reservation_id: `res_${i}`, run_id: `run-${i % 997}`, symbols: [`src/p${i % 1500}/f${i}.ts`], mode: 'exclusive', expires_at: 2e12 + i }, 1.7e12 + i, 2e12 + i, 'k'.repeat(16)),
  );
}

export default async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const dir = tmp('colony-bench-hub-');
  try {
    // Push, SQLite hub.
    const sqlitePath = join(dir, 'hub.db');
    const sqliteStore = new SqliteHubStore(sqlitePath);
    await sqliteStore.init();
    const reg = async (id: Identity, repos: string[]): Promise<void> => {
      for (const repo of repos) await sqliteStore.addKey(repo, id.publicKey, id.keyId);
    };
    const sq = await pushFigure(`sqlite:${sqlitePath}`, reg, 'sqlite');
    results.push({ name: 'push 7,000 records (all kinds) to a SQLite hub over HTTP, JSON', measured: sq.rate, unit: 'rec/s', budget: 50_000, kind: 'min', note: `${sq.ms.toFixed(0)} ms` });
    const mp = await pushFigure(`sqlite:${sqlitePath}`, reg, 'msgpack', 'msgpack');
    results.push({ name: 'push 7,000 records to a SQLite hub, MessagePack', measured: mp.rate, unit: 'rec/s', kind: 'info', note: `${mp.ms.toFixed(0)} ms` });

    // Push, Postgres hub (reported, no budget).
    try {
      const schema = `colony_bench_${Date.now()}`;
      const pgStore = new PgHubStore(PG, schema);
      await pgStore.init();
      await pgStore.close();
      const pgUrl = `${PG}${PG.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const regPg = async (id: Identity, repos: string[]): Promise<void> => {
        const s = new PgHubStore(PG, schema);
        for (const repo of repos) await s.addKey(repo, id.publicKey, id.keyId);
        await s.close();
      };
      const pgRate = await pushFigure(pgUrl, regPg, 'pg');
      results.push({ name: 'push 7,000 records to a PostgreSQL hub over HTTP, JSON', measured: pgRate.rate, unit: 'rec/s', kind: 'info', note: `${pgRate.ms.toFixed(0)} ms` });
      const drop = new PgHubStore(PG);
      await (drop as unknown as { pool: { query: (q: string) => Promise<unknown> } }).pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await drop.close();
    } catch (err) {
      results.push({ name: `push to a PostgreSQL hub: not measured (${(err as Error).message})`, measured: NaN, unit: '', kind: 'info' });
    }

    // Pull 100,000 records.
    const pullPath = join(dir, 'pull.db');
    const pullStore = new SqliteHubStore(pullPath);
    await pullStore.init();
    const all = synthetic(100_000);
    for (let i = 0; i < all.length; i += 5000) await pullStore.insert('bench/pull', all.slice(i, i + 5000));
    const readerDir = tmp('colony-bench-reader-');
    const { identity } = initIdentity(join(readerDir, 'identity.key'));
    await pullStore.addKey('bench/pull', identity.publicKey, identity.keyId);
    await pullStore.close();
    const hub = await startHub(`sqlite:${pullPath}`);
    try {
      for (const format of ['json', 'msgpack'] as const) {
        const client = new HubClient({ hubUrl: hub.url, repoId: 'bench/pull', identity, format });
        let got = 0;
        let bytes = 0;
        const ms = await timeMs(async () => {
          let cursor = '0';
          for (;;) {
            const page = await client.pull(cursor);
            got += page.records.length;
            bytes += format === 'json' ? Buffer.byteLength(JSON.stringify(page)) : encode(page).byteLength;
            cursor = page.cursor;
            if (!page.more) break;
          }
        });
        if (got !== 100_000) throw new Error(`pulled ${got}`);
        results.push({
          name: `pull 100,000 records over HTTP, ${format === 'json' ? 'JSON' : 'MessagePack'} (pages of 1,000)`,
          measured: got / (ms / 1000),
          unit: 'rec/s',
          ...(format === 'json' ? { budget: 100_000, kind: 'min' as const } : { kind: 'info' as const }),
          note: `${(bytes / 1e6).toFixed(1)} MB on the wire`,
        });
      }
      // End to end into a colony's store (conflict indexes and all).
      const reader = new CoordService({ db: openDatabase(join(readerDir, 'colony.db'), { migrations: colonyMigrations }), clock: new ManualClock(Date.now()) });
      const client = new HubClient({ hubUrl: hub.url, repoId: 'bench/pull', identity });
      let received = 0;
      const ms = await timeMs(async () => {
        received = (await pull(reader, client, { hub: hub.url, repoId: 'bench/pull', ownOrigin: identity.keyId })).received;
      });
      results.push({ name: 'pull 100,000 records into a colony store (colony coord pull)', measured: received / (ms / 1000), unit: 'rec/s', kind: 'info' });
      reader.store.db.close();

      // Cursor paging stays flat: five successive pages of 200 vs the first.
      const pageTimes: number[][] = [[], [], [], [], []];
      for (let round = 0; round < 21; round++) {
        let cursor = String(20_000 + round * 1000);
        for (let p = 0; p < 5; p++) {
          let next = cursor;
          pageTimes[p]!.push(await timeMs(async () => (next = (await client.pull(cursor, { limit: 200 })).cursor)));
          cursor = next;
        }
      }
      const med = pageTimes.map(median);
      const later = med.slice(1).reduce((a, b) => a + b, 0) / 4;
      results.push({ name: 'five successive pulls of 200: mean of pulls 2–5 (budget: the first)', measured: later, unit: 'ms', budget: med[0]!, kind: 'max', note: `medians of 21: ${med.map((m) => m.toFixed(2)).join(' / ')}` });
    } finally {
      await hub.stop();
      rmSync(readerDir, { recursive: true, force: true });
    }

    // Sizes side by side for one push batch.
    const batch = { records: synthetic(500) };
    const jsonBytes = Buffer.byteLength(JSON.stringify(batch));
    const mpBytes = encode(batch).byteLength;
    const jsonMs = await timeMs(() => { for (let i = 0; i < 20; i++) JSON.parse(JSON.stringify(batch)); });
    const { decode } = await import('@msgpack/msgpack');
    const mpMs = await timeMs(() => { for (let i = 0; i < 20; i++) decode(encode(batch)); });
    results.push(
      { name: 'one batch of 500 records: JSON size', measured: jsonBytes / 1024, unit: 'KiB', kind: 'info', note: `encode+decode ${(jsonMs / 20).toFixed(2)} ms` },
      { name: 'one batch of 500 records: MessagePack size', measured: mpBytes / 1024, unit: 'KiB', kind: 'info', note: `encode+decode ${(mpMs / 20).toFixed(2)} ms` },
    );
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
