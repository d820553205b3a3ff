import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
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
import type { HubStore } from '../src/hub/store.js';
import { makeRecord } from '../src/coord/records.js';
import type { WireRecord } from '../src/coord/wire.js';
import { median, timeMs, type BenchResult } from './lib.js';
import { spawnColony, type ColonyProcess } from './colony-process.js';
import { pgRaw, sqliteRaw, type RawTable } from './hub-raw.js';

const PG = process.env.COLONY_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** DESIGN.md: push ≥ 0.8× raw writes of the same rows, pull ≥ 0.8× raw paged reads, same run. */
const RATIO = 0.8;
const PUSHED = 7000;
const PULLED = 100_000;
const PAGE = 1000;
/** Timed rounds per figure, after one warm-up: medians of these are reported. */
const ROUNDS = 3;

function tmp(prefix: string): string {
  return realpathSync(mkdtempSync(join(tmpdir(), prefix)));
}

/** A hub backend under test: how the hub process opens it and how the bench reaches its table. */
interface Backend {
  name: 'SQLite' | 'PostgreSQL';
  /** `colony hub serve --db` argument. */
  hubDb: string;
  /** The same database, opened by the bench: keys, and the 100,000-record load. */
  store: HubStore;
  raw: RawTable;
  /** Before any timing: what a long-running database has (statistics) for the steady-state pull. */
  analyze: () => Promise<void>;
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

/** Page through a repository over HTTP; `bytes` (untimed passes only) sums what the pages weigh. */
async function pullAll(client: HubClient, format: 'json' | 'msgpack', bytes?: { n: number }): Promise<number> {
  let got = 0;
  let cursor = '0';
  for (;;) {
    const page = await client.pull(cursor, { limit: PAGE });
    got += page.records.length;
    if (bytes) bytes.n += format === 'json' ? Buffer.byteLength(JSON.stringify(page)) : encode(page).byteLength;
    cursor = page.cursor;
    if (!page.more) return got;
  }
}

const rate = (n: number, ms: number): number => n / (ms / 1000);

interface PushFigures {
  push: number;
  raw: number;
  /** Pulls of the pushed records (HTTP) and raw reads of their copy, each the first read after its bulk load. */
  freshPull?: number;
  freshRaw?: number;
}

/**
 * Push 7,000 records from a fresh colony to a running hub, one warm-up and ROUNDS timed
 * rounds, each to its own repository: a hub is a long-running service. Each round then
 * writes the same rows raw under a repository of their own, and (JSON) reads both back
 * right after their bulk load, before any ANALYZE or vacuum: the pushed ones over HTTP, the
 * copy raw. Push and baseline alternate, so both see the same machine.
 */
async function pushRounds(b: Backend, hub: ColonyProcess, format: 'json' | 'msgpack'): Promise<PushFigures> {
  const t = { push: [] as number[], raw: [] as number[], freshPull: [] as number[], freshRaw: [] as number[] };
  for (let round = 0; round <= ROUNDS; round++) {
    const dir = tmp('colony-bench-push-');
    const coord = colonyWith7000(dir);
    try {
      const n = (coord.store.db.prepare("SELECT COUNT(*) n FROM coord_records WHERE origin = 'local'").get() as { n: number }).n;
      if (n !== PUSHED) throw new Error(`expected ${PUSHED} records, have ${n}`);
      const { identity } = initIdentity(join(dir, 'identity.key'));
      const repo = `bench/${b.name}-${format}-${Date.now()}-${round}`;
      await b.store.addKey(repo, identity.publicKey, identity.keyId);
      const client = new HubClient({ hubUrl: hub.url, repoId: repo, identity, format });
      const pushMs = await timeMs(async () => {
        const r = await push(coord, client, { origin: identity.keyId });
        if (r.inserted !== PUSHED) throw new Error(`hub inserted ${r.inserted}`);
      });
      let pullMs = NaN;
      if (format === 'json') {
        pullMs = await timeMs(async () => {
          const got = await pullAll(client, format);
          if (got !== PUSHED) throw new Error(`pulled ${got} of ${PUSHED} right after the push`);
        });
      }
      const rows = await b.raw.rows(repo);
      if (rows.length !== PUSHED) throw new Error(`the hub stored ${rows.length} rows`);
      const copy = `${repo}-raw`;
      const rawMs = await timeMs(() => b.raw.write(copy, rows));
      let rawReadMs = NaN;
      if (format === 'json') {
        rawReadMs = await timeMs(async () => {
          const got = await b.raw.readAll(copy, PAGE);
          if (got !== PUSHED) throw new Error(`read ${got} raw rows`);
        });
      }
      if (round === 0) continue;
      t.push.push(pushMs);
      t.raw.push(rawMs);
      t.freshPull.push(pullMs);
      t.freshRaw.push(rawReadMs);
    } finally {
      coord.store.db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const out: PushFigures = { push: median(t.push), raw: median(t.raw) };
  if (format === 'json') Object.assign(out, { freshPull: median(t.freshPull), freshRaw: median(t.freshRaw) });
  return out;
}

function synthetic(n: number): WireRecord[] {
  return Array.from({ length: n }, (_, i) =>
    makeRecord('reservation', `run-${i % 997}`, { reservation_id: `res_${i}`, run_id: `run-${i % 997}`, symbols: [`src/p${i % 1500}/f${i}.ts`], mode: 'exclusive', expires_at: 2e12 + i }, 1.7e12 + i, 2e12 + i, 'k'.repeat(16)),
  );
}

/** A figure budgeted against its baseline: the absolute rate, with the ratio and both times beside it. */
function vsBaseline(name: string, n: number, ms: number, baseMs: number, what: string): BenchResult {
  return {
    name: `${name}, ≥ ${RATIO}× ${what}`,
    measured: rate(n, ms),
    unit: 'rec/s',
    budget: RATIO * rate(n, baseMs),
    kind: 'min',
    note: `${(baseMs / ms).toFixed(2)}× ${what}: ${ms.toFixed(1)} vs ${baseMs.toFixed(1)} ms`,
  };
}

function baseline(name: string, n: number, ms: number): BenchResult {
  return { name: `${name} (baseline)`, measured: rate(n, ms), unit: 'rec/s', kind: 'info', note: `${ms.toFixed(1)} ms` };
}

/** Every push and pull figure of one backend, against its baselines. */
async function measureBackend(b: Backend): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const readerDir = tmp('colony-bench-reader-');
  const hub = await spawnColony(['hub', 'serve', '--port', '0', '--db', b.hubDb]);
  try {
    const js = await pushRounds(b, hub, 'json');
    results.push(
      baseline(`${b.name}: raw writes of the same 7,000 rows, 500-row INSERTs`, PUSHED, js.raw),
      vsBaseline(`push 7,000 records (all kinds) to a ${b.name} hub over HTTP, JSON`, PUSHED, js.push, js.raw, 'raw writes'),
      baseline(`${b.name}: raw paged reads of those rows right after their bulk load`, PUSHED, js.freshRaw!),
      vsBaseline(`pull them over HTTP right after the push (no ANALYZE)`, PUSHED, js.freshPull!, js.freshRaw!, 'raw reads'),
    );
    if (b.name === 'SQLite') {
      const mp = await pushRounds(b, hub, 'msgpack');
      results.push({ name: `push 7,000 records to a ${b.name} hub, MessagePack`, measured: rate(PUSHED, mp.push), unit: 'rec/s', kind: 'info', note: `${(mp.raw / mp.push).toFixed(2)}× raw writes: ${mp.push.toFixed(1)} vs ${mp.raw.toFixed(1)} ms` });
    }

    // Pull 100,000 records from a store that has been loaded and analysed: the steady state.
    const all = synthetic(PULLED);
    for (let i = 0; i < all.length; i += 5000) await b.store.insert('bench/pull', all.slice(i, i + 5000));
    const { identity } = initIdentity(join(readerDir, 'identity.key'));
    await b.store.addKey('bench/pull', identity.publicKey, identity.keyId);
    await b.analyze();
    for (const format of ['json', 'msgpack'] as const) {
      const client = new HubClient({ hubUrl: hub.url, repoId: 'bench/pull', identity, format });
      // Warm-up passes, untimed; the JSON one weighs the pages.
      const bytes = { n: 0 };
      if ((await pullAll(client, format, bytes)) !== PULLED) throw new Error('pull lost records');
      if (format === 'msgpack') {
        const ms = await timeMs(() => pullAll(client, format));
        results.push({ name: `pull 100,000 records from a ${b.name} hub, MessagePack`, measured: rate(PULLED, ms), unit: 'rec/s', kind: 'info', note: `${(bytes.n / 1e6).toFixed(1)} MB on the wire` });
        continue;
      }
      await b.raw.readAll('bench/pull', PAGE);
      const httpMs: number[] = [];
      const rawMs: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        httpMs.push(await timeMs(async () => {
          if ((await pullAll(client, format)) !== PULLED) throw new Error('pull lost records');
        }));
        rawMs.push(await timeMs(async () => {
          if ((await b.raw.readAll('bench/pull', PAGE)) !== PULLED) throw new Error('raw read lost rows');
        }));
      }
      const r = vsBaseline(`pull 100,000 records from a ${b.name} hub over HTTP, JSON (pages of 1,000)`, PULLED, median(httpMs), median(rawMs), 'raw reads');
      results.push(baseline(`${b.name}: raw paged reads of the same 100,000 rows`, PULLED, median(rawMs)), { ...r, note: `${r.note}; ${(bytes.n / 1e6).toFixed(1)} MB on the wire` });
    }

    if (b.name === 'SQLite') results.push(...(await sqliteExtras(hub, identity, readerDir)));
  } finally {
    await hub.stop();
    rmSync(readerDir, { recursive: true, force: true });
  }
  return results;
}

/** Figures measured on the SQLite hub only: a pull into a colony's store, and paging cost. */
async function sqliteExtras(hub: ColonyProcess, identity: Identity, readerDir: string): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  // End to end into a colony's store (conflict indexes and all).
  const reader = new CoordService({ db: openDatabase(join(readerDir, 'colony.db'), { migrations: colonyMigrations }), clock: new ManualClock(Date.now()) });
  const client = new HubClient({ hubUrl: hub.url, repoId: 'bench/pull', identity });
  let received = 0;
  const ms = await timeMs(async () => {
    received = (await pull(reader, client, { hub: hub.url, repoId: 'bench/pull', ownOrigin: identity.keyId })).received;
  });
  results.push({ name: 'pull 100,000 records into a colony store (colony coord pull)', measured: rate(received, ms), unit: 'rec/s', kind: 'info' });
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
  return results;
}

async function sqliteBackend(dir: string): Promise<Backend> {
  const path = join(dir, 'hub.db');
  const store = new SqliteHubStore(path);
  await store.init();
  return { name: 'SQLite', hubDb: `sqlite:${path}`, store, raw: sqliteRaw(path), analyze: async () => undefined };
}

/** A PostgreSQL hub in a schema of its own; `drop` removes it. */
async function pgBackend(schema: string): Promise<Backend> {
  const store = new PgHubStore(PG, schema);
  await store.init();
  const raw = await pgRaw(PG, schema);
  const admin = new pg.Client({ connectionString: PG, options: `-c search_path=${schema}` });
  await admin.connect();
  try {
    // "Right after a bulk load" must mean it: autovacuum may not analyse the table mid-run.
    await admin.query('ALTER TABLE hub_records SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)');
  } finally {
    await admin.end();
  }
  const url = `${PG}${PG.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const analyze = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: PG, options: `-c search_path=${schema}` });
    await c.connect();
    await c.query('VACUUM ANALYZE hub_records').finally(() => c.end());
  };
  return { name: 'PostgreSQL', hubDb: url, store, raw, analyze };
}

async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => c.end());
}

/** Whether the PostgreSQL server answers at all; its rows are skipped, visibly, when not. */
async function pgReachable(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: PG, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export default async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const dir = tmp('colony-bench-hub-');
  try {
    const sq = await sqliteBackend(dir);
    try {
      results.push(...(await measureBackend(sq)));
    } finally {
      await sq.raw.close();
      await sq.store.close();
    }

    const down = await pgReachable();
    if (down) {
      process.stderr.write(`bench hub: PostgreSQL at ${PG} unreachable (${down}); its rows are skipped\n`);
      results.push({ name: `PostgreSQL hub: NOT MEASURED, server unreachable (${down})`, measured: NaN, unit: '', kind: 'info' });
    } else {
      const schema = `colony_bench_${process.pid}_${Date.now()}`;
      try {
        const b = await pgBackend(schema);
        try {
          results.push(...(await measureBackend(b)));
        } finally {
          await b.raw.close();
          await b.store.close();
        }
      } finally {
        await dropSchema(schema);
      }
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
