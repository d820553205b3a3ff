import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, realpathSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { loadConfig } from '../src/daemon/config.js';
import { colonyPaths } from '../src/daemon/paths.js';
import { colonyMigrations } from '../src/daemon/migrations.js';
import { openDatabase } from '../src/lib/sqlite.js';
import { silentLogger } from '../src/lib/log.js';
import { systemClock } from '../src/lib/clock.js';
import { Runner, type WorkspaceProvider } from '../src/runner/runner.js';
import { median, type BenchResult } from './lib.js';
import { spawnColony } from './colony-process.js';


function tempRepo(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'colony-bench-runner-')));
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '--allow-empty', '-m', 'init'], { cwd: dir });
  return dir;
}

/** A workspace provider that does nothing, so only the runner's own bookkeeping is timed. */
function noopWorkspaces(dir: string): WorkspaceProvider {
  return {
    prepare: async (o) => ({ dir, branch: `colony/${o.jobId}`, baseCommit: 'HEAD' }),
    finish: async (ws) => ({ branch: ws.branch, commits: [], diff_stat: { files: 0, insertions: 0, deletions: 0 } }),
    remove: async () => undefined,
  };
}

async function spawnTrue(n: number, concurrency: number): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      // The least any runner does: its own process group, pipes read to the end.
      await new Promise<void>((resolve) => {
        const c = spawn('true', [], { stdio: 'pipe', detached: true });
        c.stdout.resume();
        c.stderr.resume();
        c.stdin.end();
        c.on('close', () => resolve());
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - t0;
}

/**
 * Scheduler overhead: N jobs of a no-op agent (`true`) through the real runner (durable rows,
 * events, queue, process group handling) minus the same N spawns of `true` done bare at the
 * same concurrency, per job.
 */
export async function schedulerOverhead(): Promise<BenchResult> {
  const repo = tempRepo();
  try {
    const N = 300;
    const C = 4;
    const config = loadConfig(
      repo,
      { max_concurrency: C, max_queue_depth: N, agents: { noop: { type: 'command', argv: ['true'] } }, default_agent: 'noop' },
      {},
    );
    const paths = colonyPaths(repo);
    const db = openDatabase(paths.db, { migrations: colonyMigrations });
    const runner = new Runner({ db, config, clock: systemClock, logger: silentLogger(), paths, workspaces: noopWorkspaces(repo) });
    runner.start();
    const overheads: number[] = [];
    for (let round = 0; round < 3; round++) {
      const bare = await spawnTrue(N, C);
      const t0 = performance.now();
      const ids = [];
      for (let i = 0; i < N; i++) ids.push(runner.submit({ prompt: `job ${i}` }).job_id);
      for (const id of ids) await runner.waitFor(id);
      const total = performance.now() - t0;
      overheads.push(Math.max(0, total - bare) / N);
      const failed = ids.filter((id) => runner.get(id).status !== 'completed');
      if (failed.length) throw new Error(`${failed.length} no-op jobs did not complete: ${runner.get(failed[0]!).error}`);
    }
    await runner.shutdown(0);
    db.close();
    return { name: 'scheduler overhead per job (no-op agent, median of 3×300)', measured: median(overheads), unit: 'ms', budget: 2, kind: 'max' };
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

/** /health throughput with 10,000 jobs queued behind one busy slot, served by a real daemon process. */
async function healthUnderQueue(): Promise<BenchResult[]> {
  const repo = tempRepo();
  const token = 'bench-token-0123456789abcdef';
  // One slot, held by an agent that sleeps: every further job waits in the queue.
  mkdirSync(join(repo, '.colony'), { recursive: true });
  writeFileSync(
    join(repo, '.colony', 'config.json'),
    JSON.stringify({
      agents: { sleeper: { type: 'command', argv: ['sleep', '600'] } },
      default_agent: 'sleeper',
      max_concurrency: 1,
      max_queue_depth: 10_001, // in flight: 1 running + 10,000 waiting
      shutdown_grace: 0,
    }),
  );
  const daemon = await spawnColony(['serve', '--repo', repo, '--port', '0'], { COLONY_TOKEN: token });
  try {
    const url = daemon.url;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const post = (prompt: string): Promise<Response> =>
      fetch(`${url}/execute`, { method: 'POST', headers, body: JSON.stringify({ prompt }) });
    const t0 = performance.now();
    const batch = 100;
    for (let i = 0; i < 10_001; i += batch) {
      await Promise.all(Array.from({ length: Math.min(batch, 10_001 - i) }, (_, k) => post(`bench job ${i + k}`)));
    }
    const submitMs = performance.now() - t0;
    const h = (await (await fetch(`${url}/health`)).json()) as { queued: number; active: number };
    if (h.queued !== 10_000) throw new Error(`expected 10,000 queued jobs, health says ${h.queued}`);
    const r = await autocannon({ url: `${url}/health`, connections: 50, duration: 5 });
    return [
      { name: `/health with ${h.queued} jobs queued (autocannon, 50 conns, 5 s)`, measured: r.requests.average, unit: 'req/s', budget: 10_000, kind: 'min' },
      { name: 'POST /execute accepting 10,000 jobs (100 in flight)', measured: 10_001 / (submitMs / 1000), unit: 'jobs/s', kind: 'info' },
    ];
  } finally {
    await daemon.stop();
    rmSync(repo, { recursive: true, force: true });
  }
}

export default async function run(): Promise<BenchResult[]> {
  return [await schedulerOverhead(), ...(await healthUnderQueue())];
}

