import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/lib/sqlite.js';
import { systemClock } from '../src/lib/clock.js';
import { silentLogger } from '../src/lib/log.js';
import { landMigrations } from '../src/land/migrations.js';
import { LandStore } from '../src/land/store.js';
import { MergeQueue } from '../src/land/queue.js';
import { ScratchRepo } from '../src/land/scratch.js';
import { Integrator } from '../src/land/integrator.js';
import { integrateConfigSchema } from '../src/land/config.js';
import { timeMs, type BenchResult } from './lib.js';

const BRANCHES = 16;
const CULPRIT = 11;
/** The check takes 2 s and fails when any file says "broken". */
const CHECK = 'sleep 2; if grep -l broken *.txt; then exit 1; fi';

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** A repository with 16 branches off main, each adding a file; one of them breaks the check. */
function makeRepo(): { dir: string; heads: string[] } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'colony-bench-land-')));
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.email', 'b@b');
  git(dir, 'config', 'user.name', 'b');
  writeFileSync(join(dir, 'README.md'), '# bench\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  const heads: string[] = [];
  for (let i = 0; i < BRANCHES; i++) {
    git(dir, 'switch', '-q', '-c', `b${i}`, 'main');
    writeFileSync(join(dir, `f${i}.txt`), i === CULPRIT ? 'broken\n' : 'ok\n');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', `branch ${i}`);
    heads.push(git(dir, 'rev-parse', 'HEAD'));
  }
  git(dir, 'switch', '-q', '-c', 'work', 'main');
  return { dir, heads };
}

/** Queue all 16, run the integrator until idle; returns ms and how many landed / failed. */
async function drain(integrate: Record<string, unknown>): Promise<{ ms: number; landed: number; failed: number }> {
  const { dir, heads } = makeRepo();
  const db = openDatabase(':memory:', { migrations: landMigrations });
  const queue = new MergeQueue(new LandStore(db), systemClock);
  const integ = new Integrator({
    queue,
    scratch: new ScratchRepo(dir, join(dir, '.git', 'colony-bench-scratch')),
    config: integrateConfigSchema.parse({ check: CHECK, ...integrate }),
    target: 'main',
    logger: silentLogger(),
    onSettled: () => undefined,
  });
  try {
    const ids = heads.map((head, i) => queue.enqueue({ job_id: `job${i}`, branch: `b${i}`, head, target: 'main', attempt: 1 }).id);
    const ms = await timeMs(async () => {
      integ.kick();
      await integ.idle();
    });
    const statuses = ids.map((id) => queue.get(id).status);
    return { ms, landed: statuses.filter((s) => s === 'landed').length, failed: statuses.filter((s) => s === 'failed_check').length };
  } finally {
    await integ.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function run(): Promise<BenchResult[]> {
  const oneByOne = await drain({ batch: 1 });
  const queued = await drain({ batch: BRANCHES });
  for (const r of [oneByOne, queued]) {
    if (r.landed !== BRANCHES - 1 || r.failed !== 1) throw new Error(`land bench: expected 15 landed and 1 failed_check, got ${r.landed} and ${r.failed}`);
  }
  return [
    { name: 'one-by-one: 16 branches, 2 s check (baseline)', measured: oneByOne.ms, unit: 'ms', kind: 'info' },
    {
      name: 'merge queue: 16 branches, 1 breaks a 2 s check (batch + bisect)',
      measured: queued.ms,
      unit: 'ms',
      budget: 0.4 * oneByOne.ms,
      kind: 'max',
      note: `${(queued.ms / oneByOne.ms).toFixed(2)} of one-by-one; 15 landed, 1 rejected in both`,
    },
  ];
}
