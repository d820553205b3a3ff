import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { COLONY_BIN } from '../lib/package-root.js';
import type { Holder } from './reservations.js';
import { isPlainPath } from './symbols.js';

const execFileP = promisify(execFile);
const MARKER = '# colony pre-commit hook';

/** Single-quoted for sh: nothing inside is expanded. */
const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The hook: this node and this colony by absolute path (git's PATH may differ), asked to
 * check the staged paths; `colony coord hook-check` refuses files reserved by another run.
 */
function hookScript(): string {
  return `#!/bin/sh
${MARKER}: refuses commits that touch files reserved by another run.
exec ${shQuote(process.execPath)} ${shQuote(COLONY_BIN)} coord hook-check
`;
}

/**
 * Install the pre-commit hook into a repository (honouring core.hooksPath). An existing
 * hook that is not Colony's is left alone and reported.
 */
export async function installPreCommitHook(repoDir: string): Promise<{ path: string; installed: boolean; reason?: string }> {
  const { stdout } = await execFileP('git', ['rev-parse', '--git-path', 'hooks'], { cwd: repoDir });
  const rel = stdout.trim();
  const hooksDir = isAbsolute(rel) ? rel : join(repoDir, rel);
  mkdirSync(hooksDir, { recursive: true });
  const path = join(hooksDir, 'pre-commit');
  if (existsSync(path) && !readFileSync(path, 'utf8').includes(MARKER)) {
    return { path, installed: false, reason: 'a pre-commit hook that is not Colony’s already exists' };
  }
  writeFileSync(path, hookScript());
  chmodSync(path, 0o755);
  return { path, installed: true };
}

/**
 * The hook's rule, in-process (for the runner's own commit of a job's leftovers): reservations
 * of other runs over plain paths about to be committed by `runId`. Empty when nothing blocks.
 */
export function reservedByOtherRuns(
  check: (input: { symbols: string[] }) => { holders: Holder[] },
  paths: string[],
  runId: string,
): Holder[] {
  const plain = paths.filter(isPlainPath);
  const blocked: Holder[] = [];
  for (let i = 0; i < plain.length; i += 500) {
    for (const h of check({ symbols: plain.slice(i, i + 500) }).holders) {
      if (h.run_id !== runId && !blocked.some((b) => b.reservation_id === h.reservation_id)) blocked.push(h);
    }
  }
  return blocked;
}

/** One line per holder, for an error message. */
export function describeHolders(hs: Holder[]): string {
  return hs.map((h) => `${h.symbols.join(', ')} reserved by run ${h.run_id} (${h.reservation_id}, until ${h.expires_at})`).join('; ');
}
