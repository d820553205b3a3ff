import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ColonyError, fsErrorReason } from '../lib/errors.js';
import { PACKAGE_ROOT } from '../lib/package-root.js';
import { PROJECT_FILES, TARGET_BRANCH } from './project.js';

/** The scripted agent as the package ships it (compiled from src/demo/agent.ts). */
export const DEMO_AGENT = join(PACKAGE_ROOT, 'dist', 'src', 'demo', 'agent.js');

/** Jobs at once: the swarm's three workers, plus room for a follow-up the merge queue starts. */
const MAX_CONCURRENCY = 4;

/**
 * Creates the demo repository: the project committed on `main`, and `.colony/config.json`
 * for a daemon whose merge queue lands on `main`, checks with the project's tests, answers a
 * conflict with a follow-up job, and runs the scripted agent. Returns the repository's path.
 */
export function createDemoRepo(dir?: string): string {
  let repo: string;
  if (dir) {
    repo = resolve(dir);
    makeDirectory(repo);
    if (readdirSync(repo).length) throw new ColonyError('bad_input', `--dir ${repo} is not empty; give a new or empty directory`, 400);
  } else repo = mkdtempSync(join(tmpdir(), 'colony-demo-'));
  for (const [file, text] of Object.entries(PROJECT_FILES)) {
    mkdirSync(dirname(join(repo, file)), { recursive: true });
    writeFileSync(join(repo, file), text);
  }
  const git = (...args: string[]): void => void execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '--quiet', '--initial-branch', TARGET_BRANCH);
  git('add', '-A');
  git('-c', 'user.name=Colony demo', '-c', 'user.email=demo@colony.invalid', '-c', 'commit.gpgsign=false', '-c', 'core.hooksPath=/dev/null', 'commit', '--quiet', '-m', 'textkit: words()');
  mkdirSync(join(repo, '.colony'), { recursive: true, mode: 0o700 });
  writeFileSync(join(repo, '.colony', 'config.json'), JSON.stringify(demoConfig(), null, 2) + '\n');
  return repo;
}

/**
 * `mkdir -p` that fails with the reason in words. One level at a time: Node's recursive
 * mkdirSync retries ENOENT forever where the file system refuses new entries (under /proc).
 */
function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      throw new ColonyError('bad_input', `cannot create --dir ${dir}: ${fsErrorReason(err)} (at ${d})`, 400);
    }
  }
  if (!statSync(dir).isDirectory()) throw new ColonyError('bad_input', `--dir ${dir} is a file; give a new or empty directory`, 400);
}

export function demoConfig(): Record<string, unknown> {
  return {
    agents: { demo: { type: 'command', argv: [process.execPath, DEMO_AGENT] } },
    default_agent: 'demo',
    max_concurrency: MAX_CONCURRENCY,
    job_timeout: 120,
    integrate: { target: TARGET_BRANCH, check: [process.execPath, '--test'], check_timeout: 120, on_failure: 'job', max_attempts: 3 },
  };
}
