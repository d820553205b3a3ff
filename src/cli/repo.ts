import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ColonyError } from '../lib/errors.js';

/**
 * The repository a command acts on: `--repo`, else COLONY_REPO, else the git top level of
 * the current directory. Colony state lives in `<root>/.colony`.
 */
export function resolveRepoRoot(repoFlag?: string): string {
  const start = resolve(repoFlag ?? process.env.COLONY_REPO ?? process.cwd());
  if (!existsSync(start) || !statSync(start).isDirectory()) {
    throw new ColonyError('bad_repo', `repository directory not found: ${start}`);
  }
  try {
    return execFileSync('git', ['rev-parse', '--show-toplevel'], {
      cwd: start,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch {
    throw new ColonyError(
      'bad_repo',
      `not a git repository: ${start} (run colony inside a git repository, or pass --repo <dir>)`,
    );
  }
}
