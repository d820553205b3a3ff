// The "muse coord" extreme-scale suite (seeds/001_*): every scenario Colony did not measure
// yet, each printed with the specification's own budget and Colony's (50× under it) side by
// side. Times are medians of several runs, wall time measured and CPU time beside it (on a
// loaded machine the gap between them is waiting for a core). Heap figures run in a child
// node with --expose-gc (bench/coord-suite-memory.ts), so nothing else lives in its heap.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src/lib/sqlite.js';
import { colonyMigrations } from '../src/daemon/migrations.js';
import { ManualClock } from '../src/lib/clock.js';
import { CoordService } from '../src/coord/service.js';
import { recordId } from '../src/coord/records.js';
import { RECORD_KINDS, type WireRecord } from '../src/coord/wire.js';
import { HubClient } from '../src/coord/sync/hub-client.js';
import { push, pushBatches, toBatches } from '../src/coord/sync/sync.js';
import { SyncState } from '../src/coord/sync/state.js';
import { HttpClient } from '../src/lib/http-client.js';
import { median, type BenchResult } from './lib.js';
import { spawnColony } from './colony-process.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Colony's budgets are at least this many times under the specification's. */
export const SPEC_FACTOR = 50;

export function colonyStore(): { coord: CoordService; clock: ManualClock; done: () => void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'colony-bench-suite-')));
  const db = openDatabase(join(dir, 'colony.db'), { migrations: colonyMigrations });
  const clock = new ManualClock(Date.now());
  return { coord: new CoordService({ db, clock }), clock, done: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

/** `n` records of every kind written locally (the suite's _write_records, as Colony writes them). */
export function allKinds(coord: CoordService, n: number, padding = 0): void {
  const pad = 'x'.repeat(padding);
  coord.store.db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const run = `run-${i}`;
      const a = coord.reserve({ run_id: run, symbols: [`kernel/subsys_${i % 50}/module.c::func_${i}`] }) as { reservation_id: string };
      coord.intent({ run_id: run, reservation_id: a.reservation_id, operation: 'modify', target: `kernel/subsys_${i % 50}/module.c::func_${i}` });
      coord.heartbeat({ run_id: run });
      coord.depend({ reservation_id: a.reservation_id, depends_on: [] });
      const t = coord.taskCreate({ run_id: run, description: `patch kernel subsystem ${i % 50}${pad}` }).task_id;
      coord.taskClaim({ run_id: run, task_id: t });
      const b = coord.reserve({ run_id: run, symbols: [`drivers/block/hd_${i}.c`] }) as { reservation_id: string };
      coord.release({ run_id: run, reservation_id: b.reservation_id });
    }
  })();
}

/** Records of another colony, `perKind` of each kind (the suite's remote records across kinds). */
export function remoteRecords(perKind: number, origin = 'colony-remote'): WireRecord[] {
  const s = colonyStore();
  try {
    allKinds(s.coord, perKind);
    const byKind = new Map<string, number>();
    return s.coord
      .gatherRecords()
      .filter((r) => {
        const seen = byKind.get(r.kind) ?? 0;
        byKind.set(r.kind, seen + 1);
        return seen < perKind;
      })
      .map((r) => ({ ...r, origin }));
  } finally {
    s.done();
  }
}

/** Reservations of another colony whose payload carries `bytes` of padding (the suite's _pad). */
export function paddedReservations(n: number, bytes: number, origin = 'colony-remote'): WireRecord[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const payload = { reservation_id: `res-${bytes}-${i}`, run_id: `run-${i}`, symbols: [`kernel/f${i}.c`], mode: 'exclusive', expires_at: now + 3_600_000, data: 'x'.repeat(bytes) };
    return { kind: 'reservation', record_id: recordId('reservation', payload), run_id: `run-${i}`, payload, created_at: now, expires_at: now + 3_600_000, origin } satisfies WireRecord;
  });
}

/** Wall and CPU time in ms, medians over the runs. */
interface Timing {
  wall: number;
  cpu: number;
}

/**
 * Time `fn` over `runs` runs (after one untimed warm-up unless `warmup` is 0), each on what
 * `setup` prepared untimed; medians of wall and CPU time.
 */
async function measure<C>(setup: () => C, fn: (c: C) => unknown, opts: { runs?: number; warmup?: number; teardown?: (c: C) => void } = {}): Promise<Timing> {
  const walls: number[] = [];
  const cpus: number[] = [];
  const warmup = opts.warmup ?? 1;
  for (let i = 0; i < warmup + (opts.runs ?? 5); i++) {
    const c = setup();
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await fn(c);
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(c0);
    opts.teardown?.(c);
    if (i < warmup) continue;
    walls.push(wall);
    cpus.push((cpu.user + cpu.system) / 1000);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

const fmtMs = (ms: number): string => `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;

/** One row of the table: measured wall time with Colony's budget; the spec's, and CPU time, in the note. */
function row(name: string, t: Timing, specMs: number, note = ''): BenchResult {
  return {
    name,
    measured: t.wall,
    unit: 'ms',
    budget: specMs / SPEC_FACTOR,
    kind: 'max',
    note: `spec ${specMs >= 1000 ? `${specMs / 1000} s` : `${specMs} ms`}; cpu ${fmtMs(t.cpu)}${note ? `; ${note}` : ''}`,
  };
}

async function gathers(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const reservations = (n: number) => () => {
    const s = colonyStore();
    s.coord.store.db.transaction(() => {
      for (let i = 0; i < n; i++) s.coord.reserve({ run_id: `r${i}`, symbols: [`k/${i}.c`] });
    })();
    return s;
  };
  const done = (s: { done: () => void }): void => s.done();
  // Cold: a fresh connection's first gather (statements prepared, pages read); warm: the next.
  const cold = await measure(reservations(200), (s) => s.coord.gatherRecords(['reservation']), { warmup: 0, teardown: done });
  const warm = await measure(
    () => {
      const s = reservations(200)();
      s.coord.gatherRecords(['reservation']);
      return s;
    },
    (s) => s.coord.gatherRecords(['reservation']),
    { warmup: 0, teardown: done },
  );
  out.push(row('gather 200 reservations, cold (first call)', cold, 500));
  out.push(row('gather 200 reservations, warm (second call)', warm, 500, `spec also: warm < max(cold × 4, 500 ms); cold ${fmtMs(cold.wall)}`));
  {
    const s = colonyStore();
    const t = await measure(
      () => s,
      () => {
        for (let i = 0; i < 100; i++) s.coord.gatherRecords();
      },
    );
    out.push(row('gather on an empty store × 100, all kinds', t, 200));
    s.done();
  }
  {
    const s = colonyStore();
    allKinds(s.coord, 200);
    const n = s.coord.gatherRecords(['reservation']).length;
    out.push(row(`gather one kind (${n} reservations) in a store holding all seven`, await measure(() => s, () => s.coord.gatherRecords(['reservation'])), 500));
    s.done();
  }
  {
    const s = reservations(5000)();
    out.push(row('gather 5,000 reservations', await measure(() => s, () => s.coord.gatherRecords(['reservation'])), 5000));
    s.done();
  }
  return out;
}

async function remoteApply(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const done = (s: { done: () => void }): void => s.done();
  for (const [n, specMs] of [[100, 500], [1000, 3000], [7000, 20_000]] as const) {
    const records = remoteRecords(n / RECORD_KINDS.length);
    const first = await measure(colonyStore, (s) => {
      const r = s.coord.writeRemoteRecords(records);
      if (r.inserted !== records.length) throw new Error(`applied ${r.inserted} of ${records.length}`);
    }, { teardown: done });
    out.push(row(`writeRemoteRecords ${n.toLocaleString('en')} records across the seven kinds`, first, specMs));
    if (n === 1000) {
      const again = await measure(
        () => {
          const s = colonyStore();
          s.coord.writeRemoteRecords(records);
          return s;
        },
        (s) => {
          if (s.coord.writeRemoteRecords(records).skipped !== records.length) throw new Error('re-apply inserted records');
        },
        { teardown: done },
      );
      out.push(row('re-apply the same 1,000 records (all skipped)', again, 2000, `spec also: < max(first × 5, 2 s); first ${fmtMs(first.wall)}`));
    }
  }
  for (const [bytes, n, specMs] of [[50, 500, 2000], [1024, 500, 3000], [10 * 1024, 200, 3000], [50 * 1024, 50, 2000]] as const) {
    const records = paddedReservations(n, bytes);
    const t = await measure(colonyStore, (s) => s.coord.writeRemoteRecords(records), { teardown: done });
    out.push(row(`remote apply ${n} × ${bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`} payloads`, t, specMs));
  }
  return out;
}

async function gcs(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const released = (): ReturnType<typeof colonyStore> => {
    const s = colonyStore();
    s.coord.store.db.transaction(() => {
      for (let i = 0; i < 1000; i++) {
        const r = s.coord.reserve({ run_id: `run-${i}`, symbols: [`net/ipv4/tcp_${i}.c::send`], ttl_seconds: 1 }) as { reservation_id: string };
        s.coord.release({ run_id: `run-${i}`, reservation_id: r.reservation_id });
      }
    })();
    // As the suite writes them: released, and past their expiry.
    s.clock.advance(10_000);
    return s;
  };
  const live = await measure(released, (s) => {
    const r = s.coord.gc();
    if (r.reservations_removed !== 1000 || r.releases_removed !== 1000) throw new Error(`gc removed ${JSON.stringify(r)}`);
  }, { teardown: (s) => s.done() });
  out.push(row('gc of 1,000 released reservations with their tombstones', live, 4000));
  {
    const s = colonyStore();
    const t = await measure(
      () => s,
      () => {
        for (let i = 0; i < 50; i++) s.coord.gc({ dryRun: true });
      },
    );
    out.push(row('gc dry run on an empty store × 50', t, 500));
    s.done();
  }
  return out;
}

/** A hub client that records each batch it sends (sizes), on top of the real requests. */
export class CountingHubClient extends HubClient {
  readonly batches: number[] = [];
  override pushRows(...args: Parameters<HubClient['pushRows']>): ReturnType<HubClient['pushRows']> {
    this.batches.push(args[0].length);
    return super.pushRows(...args);
  }
}

/** The suite's mocked push_to_hub: the batch loop alone, no network. */
class LoopOnlyClient extends HubClient {
  readonly batches: number[] = [];
  override pushRows(rows: Parameters<HubClient['pushRows']>[0]): ReturnType<HubClient['pushRows']> {
    this.batches.push(rows.length);
    return Promise.resolve({ inserted: rows.length, skipped: 0, cursor: '0' });
  }
}

function localReservations(n: number): { coord: CoordService; done: () => void } {
  const s = colonyStore();
  s.coord.store.db.transaction(() => {
    for (let i = 0; i < n; i++) s.coord.reserve({ run_id: 'run-0', symbols: [`kernel/f${i}.c`] });
  })();
  return s;
}

let repoSeq = 0;
/** A stubbed client on a repository id of its own: push state starts empty for it. */
const loopClient = (): LoopOnlyClient => new LoopOnlyClient({ hubUrl: 'http://127.0.0.1:9', repoId: `torvalds/linux-${repoSeq++}` });

async function pushes(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  {
    // As the spec: the records already in memory, the network stubbed; the batch loop alone.
    const s = localReservations(7000);
    const state = SyncState.of(s.coord.store.db);
    const rows = state.pending({ hub: 'none', repoId: 'none/none' }, 0);
    const t = await measure(loopClient, async (client) => {
      await pushBatches(state, client, toBatches(rows), { origin: 'bench', watermark: true });
      if (client.batches.length !== 14) throw new Error(`7,000 records made ${client.batches.length} batches`);
    });
    out.push(row('push batch loop, 7,000 records → 14 batches (network stubbed, as the spec)', t, 500));
    s.done();
  }
  // The spec's end-to-end cycle: gather (here: read the pending rows), batch, push (stubbed).
  for (const [perKind, specMs] of [[63, 1000], [875, 10_000]] as const) {
    const s = colonyStore();
    allKinds(s.coord, perKind);
    const n = perKind * 8;
    const t = await measure(loopClient, async (client) => {
      const r = await push(s.coord, client, { origin: 'bench' });
      if (r.inserted !== n) throw new Error(`pushed ${r.inserted} of ${n}`);
    });
    out.push(row(`end to end: read, batch and push ${n.toLocaleString('en')} records of all kinds (network stubbed)`, t, specMs, `${Math.round(n / (t.wall / 1000)).toLocaleString('en')} records/s`));
    s.done();
  }
  out.push(...(await sequentialPushes()));
  return out;
}

/** CPU time (user + system) a child process has used so far, in ms (Linux /proc). */
function childCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the full line, in clock ticks (100 per second here).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Wall and CPU time of one round: this process's CPU and the server process's. */
interface Round {
  wall: number;
  cpu: number;
  serverCpu: number;
}

/** Time `fn` against the server process `pid`: wall, this process's CPU, the server's CPU. */
async function round(pid: number, fn: () => Promise<void>): Promise<Round> {
  const s0 = childCpuMs(pid);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000, serverCpu: childCpuMs(pid) - s0 };
}

/** 100 sequential round trips of `body` through the hub client's own HTTP layer. */
function roundTrips(http: HttpClient, body: Buffer): () => Promise<void> {
  return async () => {
    for (let i = 0; i < 100; i++) {
      const r = await http.request({ method: 'POST', target: '/records', headers: { 'content-type': 'application/json' }, body, timeoutMs: 10_000 });
      if (r.status !== 200) throw new Error(`floor server answered ${r.status}`);
    }
  };
}

const medianOf = (rounds: Round[], f: (r: Round) => number): number => median(rounds.map(f));

/**
 * 100 sequential pushes of one small batch, beside the floor under them: the same 100 round
 * trips to a bare node:http server and to a bare fastify route in another process, through
 * the same client. A push cannot take less than a round trip to fastify (the hub is a
 * fastify app) plus the hub's write and the colony's. The three are interleaved round by
 * round, so a change in the machine's load hits them alike; ratios are medians of per-round
 * ratios. Each push is timed alone (the reserve that gives it a new record is not).
 */
async function sequentialPushes(): Promise<BenchResult[]> {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'colony-bench-suite-hub-')));
  const hub = await spawnColony(['hub', 'serve', '--port', '0', '--db', `sqlite:${join(dir, 'hub.db')}`, '--allow-unsigned']);
  const floorServer = spawn(process.execPath, [join(HERE, 'http-floor-server.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const floor = await new Promise<{ node: string; fastify: string }>((resolve, reject) => {
      floorServer.stdout!.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as { node: string; fastify: string }));
      floorServer.once('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
    });
    const s = colonyStore();
    // The body of a one-record push, so the floor carries the same bytes.
    s.coord.reserve({ run_id: 'run-0', symbols: ['small/sample.c'] });
    const sample = SyncState.of(s.coord.store.db).pending({ hub: 'none', repoId: 'none/none' }, 0);
    const body = Buffer.from(`{"records":[${JSON.stringify({ ...sample[0]!, seq: undefined, payload: JSON.parse(sample[0]!.payload) as unknown, origin: 'bench-colony' })}]}`);
    const bareHttp = new HttpClient(new URL(floor.node));
    const fastifyHttp = new HttpClient(new URL(floor.fastify));
    const client = new CountingHubClient({ hubUrl: hub.url, repoId: 'torvalds/linux' });
    await push(s.coord, client, { origin: 'bench-colony' });
    const bare: Round[] = [];
    const fastify: Round[] = [];
    const pushes: Round[] = [];
    for (let r = 0; r < 6; r++) {
      const b = await round(floorServer.pid!, roundTrips(bareHttp, body));
      const f = await round(floorServer.pid!, roundTrips(fastifyHttp, body));
      client.batches.length = 0;
      let wall = 0;
      let cpu = 0;
      const h0 = childCpuMs(hub.child.pid!);
      for (let i = 0; i < 100; i++) {
        s.coord.reserve({ run_id: 'run-0', symbols: [`small/${r}/${i}.c`] });
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        await push(s.coord, client, { origin: 'bench-colony' });
        wall += Number(process.hrtime.bigint() - t0) / 1e6;
        const c = process.cpuUsage(c0);
        cpu += (c.user + c.system) / 1000;
      }
      if (client.batches.length !== 100 || client.batches.some((n) => n !== 1)) throw new Error('expected 100 pushes of one record');
      // The first round warms all three up.
      if (r === 0) continue;
      bare.push(b);
      fastify.push(f);
      pushes.push({ wall, cpu, serverCpu: childCpuMs(hub.child.pid!) - h0 });
    }
    bareHttp.close();
    fastifyHttp.close();
    client.close();
    s.done();
    const ratio = (floorRounds: Round[], f: (r: Round) => number): string => median(pushes.map((p, i) => f(p) / f(floorRounds[i]!))).toFixed(2);
    const both = (r: Round): number => r.cpu + r.serverCpu;
    const floorRow = (name: string, rounds: Round[]): BenchResult => ({
      name,
      measured: medianOf(rounds, (r) => r.wall),
      unit: 'ms',
      kind: 'info',
      note: `cpu ${fmtMs(medianOf(rounds, (r) => r.cpu))} client + ${fmtMs(medianOf(rounds, (r) => r.serverCpu))} server (10 ms ticks)`,
    });
    return [
      floorRow('floor: 100 round trips to a bare node:http server (another process)', bare),
      floorRow('floor: 100 round trips to a bare fastify route (another process)', fastify),
      row(
        '100 sequential pushes of one small batch to a real hub',
        { wall: medianOf(pushes, (r) => r.wall), cpu: medianOf(pushes, (r) => r.cpu) },
        2000,
        `hub cpu ${fmtMs(medianOf(pushes, (r) => r.serverCpu))}; per round, ${ratio(fastify, (r) => r.wall)}× the bare fastify floor's wall time and ${ratio(fastify, both)}× its CPU (both processes), ${ratio(bare, (r) => r.wall)}× bare node:http's wall time`,
      ),
    ];
  } finally {
    floorServer.stdin!.end();
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Heap figures from a child node with --expose-gc: a clean heap and a real full gc. */
function memoryRows(): BenchResult[] {
  const out = execFileSync(process.execPath, ['--expose-gc', join(HERE, 'coord-suite-memory.js')], { encoding: 'utf8' });
  return JSON.parse(out) as BenchResult[];
}

export default async function run(): Promise<BenchResult[]> {
  return [...(await gathers()), ...(await remoteApply()), ...(await gcs()), ...(await pushes()), ...memoryRows()];
}
