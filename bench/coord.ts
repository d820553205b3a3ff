import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkpointOnTimer, openDatabase, type Db } from '../src/lib/sqlite.js';
import { colonyMigrations } from '../src/daemon/migrations.js';
import { ManualClock } from '../src/lib/clock.js';
import { CoordService } from '../src/coord/service.js';
import { median, medianMs, percentile, timeMs, type BenchResult } from './lib.js';
import { spawnColony } from './colony-process.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

function fresh(): { coord: CoordService; clock: ManualClock; db: Db; dir: string; done: () => void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'colony-bench-coord-')));
  const db = openDatabase(join(dir, 'colony.db'), { migrations: colonyMigrations });
  const clock = new ManualClock(Date.now());
  // As the daemon runs it: checkpoints on a timer, not inside commits.
  const stop = checkpointOnTimer(db);
  return { coord: new CoordService({ db, clock }), clock, db, dir, done: () => (stop(), db.close(), rmSync(dir, { recursive: true, force: true })) };
}

/** 1,000 records of each of the seven kinds. */
function sevenKinds(coord: CoordService, n = 1000): void {
  for (let i = 0; i < n; i++) {
    const a = coord.reserve({ run_id: `run${i}`, symbols: [`src/m${i}/a.ts::F`] }) as { reservation_id: string };
    coord.intent({ run_id: `run${i}`, reservation_id: a.reservation_id, operation: 'modify', target: `src/m${i}/a.ts::F` });
    coord.heartbeat({ run_id: `run${i}` });
    const b = coord.reserve({ run_id: `run${i}`, symbols: [`src/m${i}/b.ts`] }) as { reservation_id: string };
    coord.depend({ reservation_id: a.reservation_id, depends_on: [b.reservation_id] });
    coord.release({ run_id: `run${i}`, reservation_id: b.reservation_id });
    const t = coord.taskCreate({ run_id: `run${i}`, description: `task ${i}` }).task_id;
    coord.taskClaim({ run_id: `run${i}`, task_id: t });
  }
}

async function gatherFigures(): Promise<BenchResult[]> {
  const f = fresh();
  try {
    sevenKinds(f.coord);
    const all = f.coord.gatherRecords();
    if (all.length !== 8000) throw new Error(`expected 8,000 records (2,000 reservations), got ${all.length}`);
    // 7,000 records of all kinds: drop half the reservations (they are the released ones' twins).
    const t7 = await medianMs(() => f.coord.gatherRecords(['intent', 'release', 'heartbeat', 'dependency', 'task', 'claim']), 9);
    const tAll = await medianMs(() => f.coord.gatherRecords(), 9);
    const per = tAll / 8000;
    const fresh1k = fresh();
    for (let i = 0; i < 1000; i++) fresh1k.coord.reserve({ run_id: `r${i}`, symbols: [`x/${i}.ts`] });
    const t1k = await medianMs(() => fresh1k.coord.gatherRecords(['reservation']), 15);
    fresh1k.done();
    return [
      { name: 'gather 7,000 records of all seven kinds (8,000 incl. 2 reservations/run)', measured: per * 7000, unit: 'ms', budget: 70, kind: 'max', note: `8,000 in ${tAll.toFixed(1)} ms; 6 kinds × 1,000 in ${t7.toFixed(1)} ms` },
      { name: 'gather 1,000 reservations', measured: t1k, unit: 'ms', budget: 10, kind: 'max' },
    ];
  } finally {
    f.done();
  }
}

async function statusFigure(): Promise<BenchResult> {
  const f = fresh();
  try {
    for (let i = 0; i < 3000; i++) {
      f.coord.reserve({ run_id: `run${i}`, symbols: [`src/f${i}.ts`], ttl_seconds: 60 });
      f.coord.heartbeat({ run_id: `run${i}`, ttl_seconds: 600 });
    }
    f.clock.advance(120_000); // past the ttl: only the heartbeats keep them active
    const n = f.coord.status().reservations.length;
    if (n !== 3000) throw new Error(`expected 3,000 active reservations, got ${n}`);
    return { name: 'status over 3,000 active reservations with 3,000 heartbeats', measured: await medianMs(() => f.coord.status(), 15), unit: 'ms', budget: 20, kind: 'max' };
  } finally {
    f.done();
  }
}

async function gcFigures(): Promise<BenchResult[]> {
  const times: { live: number[]; dry: number[] } = { live: [], dry: [] };
  for (let round = 0; round < 3; round++) {
    const f = fresh();
    try {
      f.db.transaction(() => {
        for (let i = 0; i < 5000; i++) f.coord.reserve({ run_id: `run${i % 500}`, symbols: [`src/g${i}.ts`], ttl_seconds: 1 });
      })();
      f.clock.advance(10_000);
      times.dry.push(await timeMs(() => f.coord.gc({ dryRun: true })));
      let removed = 0;
      times.live.push(await timeMs(() => (removed = f.coord.gc().reservations_removed)));
      if (removed !== 5000) throw new Error(`gc removed ${removed}, expected 5,000`);
    } finally {
      f.done();
    }
  }
  const live = median(times.live);
  return [
    { name: 'gc of 5,000 expired reservations (median of 3)', measured: live, unit: 'ms', budget: 150, kind: 'max' },
    { name: 'gc dry run of the same (budget: the live gc)', measured: median(times.dry), unit: 'ms', budget: live, kind: 'max' },
  ];
}

async function reserveLatency(): Promise<BenchResult> {
  const f = fresh();
  try {
    f.db.transaction(() => {
      for (let i = 0; i < 10_000; i++) f.coord.reserve({ run_id: `run${i}`, symbols: [`src/d${i % 700}/f${i}.ts::S${i % 7}`], ttl_seconds: 3600 });
    })();
    const lat: number[] = [];
    for (let i = 0; i < 3000; i++) {
      // Half collide with a held file, half are free.
      const sym = i % 2 ? `src/d${i % 700}/f${i}.ts` : `free/${i}.ts`;
      const t0 = process.hrtime.bigint();
      f.coord.reserve({ run_id: `probe${i}`, symbols: [sym], ttl_seconds: 60 });
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    lat.sort((a, b) => a - b);
    return { name: 'reserve with conflict check among 10,000 active, p99 (in-process)', measured: percentile(lat, 99), unit: 'ms', budget: 1, kind: 'max', note: `p50 ${percentile(lat, 50).toFixed(3)} ms` };
  } finally {
    f.done();
  }
}

/** Heap measurements need --expose-gc: run them in a child node. */
function memoryFigures(): BenchResult[] {
  const out = execFileSync(process.execPath, ['--expose-gc', join(HERE, 'coord-memory.js')], { encoding: 'utf8' });
  return JSON.parse(out) as BenchResult[];
}

/** The swarm: a daemon process, and a separate driver process talking to its socket. */
async function swarm(): Promise<BenchResult[]> {
  const repo = realpathSync(mkdtempSync(join(tmpdir(), 'colony-bench-swarm-')));
  execFileSync('git', ['init', '-q', repo]);
  const daemon = await spawnColony(['serve', '--repo', repo, '--port', '0'], { COLONY_TOKEN: 'bench-token-0123456789abcdef' });
  try {
    const socket = join(repo, '.colony', 'colony.sock');
    const out = execFileSync(process.execPath, [join(HERE, 'swarm-driver.js'), socket, '7000', '150000', '64'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const r = JSON.parse(out) as { ops: number; seconds: number; p50: number; p99: number; reserveP99: number; soloP50: number; soloP99: number; granted: number };
    return [
      { name: 'swarm: 7,000 runs × (reserve 3 of 150,000 files + heartbeat), socket, 64 conns', measured: r.ops / r.seconds, unit: 'ops/s', kind: 'info', note: `${r.granted} granted` },
      { name: 'swarm: operation latency p50 under 64 concurrent connections', measured: r.p50, unit: 'ms', kind: 'info', note: `p99 ${r.p99.toFixed(2)} ms (queueing)` },
      { name: 'reserve p99 over the socket, one client among 10,000+ active', measured: r.soloP99, unit: 'ms', budget: 5, kind: 'max', note: `p50 ${r.soloP50.toFixed(3)} ms` },
    ];
  } finally {
    await daemon.stop();
    rmSync(repo, { recursive: true, force: true });
  }
}

export default async function run(): Promise<BenchResult[]> {
  return [...(await gatherFigures()), await statusFigure(), ...(await gcFigures()), await reserveLatency(), ...memoryFigures(), ...(await swarm())];
}
