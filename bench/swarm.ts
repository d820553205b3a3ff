import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/daemon/config.js';
import { colonyPaths } from '../src/daemon/paths.js';
import { colonyMigrations } from '../src/daemon/migrations.js';
import { openDatabase } from '../src/lib/sqlite.js';
import { silentLogger } from '../src/lib/log.js';
import { systemClock } from '../src/lib/clock.js';
import { Runner } from '../src/runner/runner.js';
import { CoordService } from '../src/coord/service.js';
import { LandService } from '../src/land/index.js';
import { SwarmService, type TaskSpec } from '../src/swarm/index.js';
import { medianMs, type BenchResult } from './lib.js';

const TASKS = 500;

/** 500 tasks, each after the previous one and touching its own file: the largest swarm a request may ask for. */
function specs(): TaskSpec[] {
  return Array.from({ length: TASKS }, (_, i) => ({
    id: `t${i}`,
    description: `task ${i}: edit src/f${i}.ts`,
    reserve: [`src/f${i}.ts`],
    ...(i ? { depends_on: [`t${i - 1}`] } : {}),
  }));
}

/**
 * What a swarm adds to the coordination writes it cannot avoid: starting a 500-task swarm
 * against creating the same 500 coord tasks directly (the baseline, same database, same
 * run), and reading its whole view (what every change sends over SSE) against reading the
 * same rows with one raw statement.
 */
export default async function run(): Promise<BenchResult[]> {
  const repo = realpathSync(mkdtempSync(join(tmpdir(), 'colony-bench-swarm-')));
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: repo });
  execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '--allow-empty', '-m', 'init'], { cwd: repo });
  try {
    // One slot held by an agent that sleeps: the swarm's first job runs, nothing finishes.
    const config = loadConfig(repo, { max_concurrency: 1, agents: { sleeper: { type: 'command', argv: ['sleep', '600'] } }, default_agent: 'sleeper', integrate: { target: 'main' } }, {});
    const paths = colonyPaths(repo);
    const db = openDatabase(paths.db, { migrations: colonyMigrations });
    const logger = silentLogger();
    const coord = new CoordService({ db, clock: systemClock });
    const land = new LandService({ db, clock: systemClock, logger, coord, repo, scratchDir: join(paths.dir, 'land'), integrate: config.integrate, orchestrate: config.orchestrate });
    const runner = new Runner({ db, config, clock: systemClock, logger, paths, hooks: land.hooks() });
    land.attach(runner);
    const swarms = new SwarmService({ db, clock: systemClock, logger, coord, runner, land, defaultAgent: 'sleeper' });
    runner.start();
    swarms.start();

    const list = specs();
    const baseline = await medianMs(() => {
      const ids = new Map<string, string>();
      for (const s of list) {
        const { task_id } = coord.taskCreate({ run_id: 'bench', description: s.description, reserve: s.reserve, depends_on: (s.depends_on ?? []).map((k) => ids.get(k)!) });
        ids.set(s.id!, task_id);
      }
    }, 5);
    let last = '';
    const create = await medianMs(() => {
      last = swarms.create({ agents: 1, tasks: list }).swarm_id;
    }, 5);
    const raw = db.prepare('SELECT * FROM swarm_tasks WHERE swarm_id = ? ORDER BY ord');
    const rawRead = await medianMs(() => JSON.stringify(raw.all(last)), 50, 5);
    const view = await medianMs(() => JSON.stringify(swarms.get(last)), 50, 5);
    if (swarms.get(last).tasks.length !== TASKS) throw new Error('swarm bench: the swarm lost tasks');

    swarms.stop();
    await runner.shutdown(0);
    db.close();
    return [
      { name: `create ${TASKS} coord tasks directly (baseline)`, measured: baseline, unit: 'ms', kind: 'info' },
      { name: `start a ${TASKS}-task swarm (tasks, deps, reserve), ≤ 1.5× baseline`, measured: create, unit: 'ms', budget: baseline * 1.5, kind: 'max' },
      { name: `raw read of the swarm's ${TASKS} task rows (baseline)`, measured: rawRead, unit: 'ms', kind: 'info' },
      { name: `whole view of a ${TASKS}-task swarm, ≤ 2× raw read`, measured: view, unit: 'ms', budget: rawRead * 2, kind: 'max' },
    ];
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}
