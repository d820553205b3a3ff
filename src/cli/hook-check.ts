import { execFileSync } from 'node:child_process';
import type { Holder } from '../coord/service.js';
import { isPlainPath } from '../coord/symbols.js';
import { ColonyError } from '../lib/errors.js';
import { connectDaemon } from './client.js';
import { holdersTable } from './output.js';

/**
 * Live reservations of other runs over these paths, asked of the repository's daemon;
 * undefined (with a warning) when no daemon answers, so a stopped colony never blocks git.
 */
async function reservedByOthers(paths: string[], run: string | undefined): Promise<Holder[] | undefined> {
  const blocked: Holder[] = [];
  try {
    const client = connectDaemon();
    for (let i = 0; i < paths.length; i += 500) {
      const r = await client.request<{ holders: Holder[] }>('POST', '/coord/check', { symbols: paths.slice(i, i + 500) });
      for (const h of r.holders) if (h.run_id !== run && !blocked.some((b) => b.reservation_id === h.reservation_id)) blocked.push(h);
    }
  } catch (err) {
    if (!(err instanceof ColonyError) || err.code !== 'no_daemon') throw err;
    process.stderr.write(`colony: warning: reservations not checked (${err.message})\n`);
    return undefined;
  }
  return blocked;
}

/**
 * `colony coord hook-check`, run by the pre-commit hook on every commit: refuse staged files
 * reserved by another run. It runs without the command parser and imports only what it uses,
 * so a commit waits for one HTTP round trip, not for the CLI to load.
 */
export async function hookCheck(): Promise<void> {
  // --no-renames lists both sides of a rename: moving a reserved file away touches it too.
  const staged = execFileSync('git', ['diff', '--cached', '--name-only', '--no-renames', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean);
  // A name with glob characters or `::` would be read as a pattern or a symbol; say so rather than guess.
  const unchecked = staged.filter((p) => !isPlainPath(p));
  if (unchecked.length) process.stderr.write(`colony: not checked against reservations (not a plain path): ${unchecked.join(', ')}\n`);
  const paths = staged.filter(isPlainPath);
  if (paths.length === 0) return;
  const blocked = await reservedByOthers(paths, process.env.COLONY_RUN_ID);
  if (blocked === undefined) return;
  if (blocked.length) {
    process.stderr.write(`colony: commit refused: staged files are reserved by other runs\n${holdersTable(blocked)}\n`);
    process.exitCode = 1;
  }
}
