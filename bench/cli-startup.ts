// How long a `colony` command takes from exec to exit, against `node -e 0` measured in the
// same run: the version flag, a CLI call to a running daemon, and the pre-commit hook as git
// runs it. Each figure is the median of 10 runs after one warm-up.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COLONY_BIN, spawnColony } from './colony-process.js';
import { median, type BenchResult } from './lib.js';

const RUNS = 10;
/** What `node -e 0` costs on a typical machine here; the absolute budgets are ratios to it. */
const TYPICAL_NODE_MS = 40;
const VERSION_BUDGET_MS = 150;
const DAEMON_CALL_BUDGET_MS = 250;

/** Median wall time of a command, in ms; fails loudly if it fails. */
function medianRun(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; ok?: number[] } = {}): number {
  const times: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (!(opts.ok ?? [0]).includes(r.status ?? -1)) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    if (i > 0) times.push(ms); // the first run warms the file cache
  }
  return median(times);
}

/** One row: the budget is the typical machine's, scaled by this run's `node -e 0`. */
function figure(name: string, measured: number, base: number, budgetMs: number): BenchResult {
  return {
    name,
    measured,
    unit: 'ms',
    budget: (budgetMs * base) / TYPICAL_NODE_MS,
    kind: 'max',
    note: `${(measured / base).toFixed(2)}× node -e 0; ${budgetMs} ms where node -e 0 takes ${TYPICAL_NODE_MS} ms`,
  };
}

export default async function cliStartup(): Promise<BenchResult[]> {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'colony-bench-cli-')));
  const git = (...args: string[]): string => execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...args], { cwd: dir, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  git('commit', '-q', '--allow-empty', '-m', 'init');
  const env = { ...process.env, COLONY_URL: '', COLONY_TOKEN: '', COLONY_RUN_ID: 'bench-committer' };
  const daemon = await spawnColony(['serve', '--repo', dir, '--port', '0'], { COLONY_TOKEN: '' });
  try {
    const base = medianRun(process.execPath, ['-e', '0']);
    const version = medianRun(process.execPath, [COLONY_BIN, '--version'], { cwd: dir, env });
    // Someone else holds a reservation: the check has a holder to report.
    execFileSync(process.execPath, [COLONY_BIN, 'coord', 'reserve', 'src/held.ts', '--run', 'bench-holder'], { cwd: dir, env });
    const check = medianRun(process.execPath, [COLONY_BIN, 'coord', 'check', 'src/held.ts'], { cwd: dir, env });
    // The hook exactly as git runs it, with a staged file nobody else holds.
    execFileSync(process.execPath, [COLONY_BIN, 'coord', 'hook', 'install'], { cwd: dir, env });
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'src', 'free.ts'), 'export {};\n');
    git('add', 'src/free.ts');
    const hook = medianRun(join(dir, '.git', 'hooks', 'pre-commit'), [], { cwd: dir, env });
    return [
      { name: `node -e 0 (baseline, median of ${RUNS})`, measured: base, unit: 'ms', kind: 'info' },
      figure(`colony --version (median of ${RUNS})`, version, base, VERSION_BUDGET_MS),
      figure(`colony coord check, running daemon (median of ${RUNS})`, check, base, DAEMON_CALL_BUDGET_MS),
      figure(`pre-commit hook, one staged file (median of ${RUNS})`, hook, base, DAEMON_CALL_BUDGET_MS),
    ];
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
