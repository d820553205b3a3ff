import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir } from '../lib/private-fs.js';

/** Where a colony keeps its state inside a repository. */
export interface ColonyPaths {
  dir: string;
  db: string;
  config: string;
  token: string;
  socket: string;
  /** Written by a running daemon: `{pid, url, socket}`; how the CLI finds it. */
  daemonInfo: string;
  workspaces: string;
  identityKey: string;
}

export function colonyPaths(repo: string): ColonyPaths {
  const dir = join(repo, '.colony');
  return {
    dir,
    db: join(dir, 'colony.db'),
    config: join(dir, 'config.json'),
    token: join(dir, 'token'),
    socket: join(dir, 'colony.sock'),
    daemonInfo: join(dir, 'daemon.json'),
    workspaces: join(dir, 'workspaces'),
    identityKey: join(dir, 'identity.key'),
  };
}

/**
 * Create `.colony/` (or tighten it) to 0700 before anything is written into it, and keep
 * the colony's state out of the repository's own status.
 */
export function ensureColonyDir(paths: ColonyPaths): void {
  ensurePrivateDir(paths.dir);
  const ignore = join(paths.dir, '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '*\n');
}
