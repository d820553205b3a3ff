import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkspaceManager } from '../src/runner/workspace.js';
import { git as gitAsync } from '../src/runner/git.js';
import { silentLogger } from '../src/lib/log.js';
import { median, timeMs, type BenchResult } from './lib.js';

const FILES = 10_000;
const RUNS = 9;

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** A 10,000-file repository: 100 directories of 100 small source files, one commit. */
function generateRepo(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'colony-bench-ws-')));
  git(dir, 'init', '-q', '-b', 'main');
  for (let d = 0; d < FILES / 100; d++) {
    const sub = join(dir, 'src', `mod${d}`);
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < 100; f++) {
      writeFileSync(join(sub, `file${f}.ts`), `export const v${d}_${f} = ${d * 100 + f};\n// ${'x'.repeat(200)}\n`);
    }
  }
  git(dir, 'add', '-A');
  git(dir, '-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '-m', 'generated');
  return dir;
}

export default async function run(): Promise<BenchResult[]> {
  const base = generateRepo();
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'colony-bench-wsroot-')));
  try {
    const results: BenchResult[] = [];
    for (const layout of ['loose objects', 'packed'] as const) {
      if (layout === 'packed') git(base, 'gc', '-q');
      const wm = new WorkspaceManager({ baseRepo: base, root, logger: silentLogger(), keep: 'never' });
      const prepare: number[] = [];
      const worktree: number[] = [];
      // Alternate which goes first, flush dirty pages before each timing, and delete nothing
      // until the end: on this machine a mass delete slows the next mass create several-fold,
      // which would land on whichever ran second.
      for (let i = 0; i <= RUNS; i++) {
        const jobId = `job_bench_${layout.length}_${i}`;
        const wtDir = join(root, `wt_${layout.length}_${i}`);
        const wtBranch = `wt-bench-${layout.length}-${i}`;
        const timePrepare = async (): Promise<number> => {
          execFileSync('sync');
          return timeMs(() => wm.prepare({ jobId }));
        };
        const timeWorktree = async (): Promise<number> => {
          execFileSync('sync');
          // Same async spawn path as the workspace manager's own git calls.
          return timeMs(() => gitAsync(['worktree', 'add', '-q', '-b', wtBranch, wtDir], { cwd: base }));
        };
        let wsTime: number;
        let wtTime: number;
        if (i % 2 === 0) {
          wsTime = await timePrepare();
          wtTime = await timeWorktree();
        } else {
          wtTime = await timeWorktree();
          wsTime = await timePrepare();
        }
        if (i === 0) continue; // warm-up
        prepare.push(wsTime);
        worktree.push(wtTime);
      }
      const wt = median(worktree);
      // Git itself never keeps 10,000 loose objects for long: past gc.auto (6,700) its own
      // `gc --auto`, run by every fetch — including each job's fetch-back — packs them. The
      // packed repository is the one that counts; the loose one is shown for what it costs.
      const packed = layout === 'packed';
      results.push(
        packed
          ? { name: `workspace prepare, ${FILES} files, packed (median of ${RUNS})`, measured: median(prepare), unit: 'ms', budget: wt, kind: 'max', note: 'budget = git worktree add' }
          : { name: `workspace prepare, ${FILES} files, all loose objects (median of ${RUNS})`, measured: median(prepare), unit: 'ms', kind: 'info', note: `${(median(prepare) / wt).toFixed(2)}× worktree add: each loose object is hardlinked` },
        { name: `git worktree add, ${FILES} files, ${layout} (median of ${RUNS})`, measured: wt, unit: 'ms', kind: 'info' },
      );
    }
    return results;
  } finally {
    rmSync(base, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  }
}
