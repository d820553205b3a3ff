import Database from 'better-sqlite3';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ColonyError } from '../lib/errors.js';

/** Held for a daemon's lifetime; release() on a clean stop (the kernel releases it on a crash). */
export interface DaemonLock {
  file: string;
  release(): void;
}

/**
 * One daemon per repository. The lock is an exclusive SQLite transaction on
 * `.colony/daemon.lock`, held open: SQLite takes it with an fcntl() lock, which the kernel
 * drops when the process dies however it dies (kill -9 included), so a crash never leaves a
 * stale lock and a second daemon — started at the same instant, on any port — cannot get it.
 * The holder's pid goes in `daemon.lock.owner` so the refusal can name it.
 */
export async function acquireDaemonLock(colonyDir: string, repo: string, infoFile: string): Promise<DaemonLock> {
  const file = join(colonyDir, 'daemon.lock');
  const ownerFile = `${file}.owner`;
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma('journal_mode = DELETE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY' || (err as { code?: string }).code === 'SQLITE_LOCKED') {
      // The holder writes its pid just after taking the lock: give it a moment to appear.
      let owner = describeOwner(ownerFile, infoFile);
      for (let i = 0; i < 40 && owner === 'starting up'; i++) {
        await sleep(50);
        owner = describeOwner(ownerFile, infoFile);
      }
      throw new ColonyError('already_running', `another colony daemon is already running for ${repo} (${owner}); stop it first (.colony/daemon.lock is held)`, 409);
    }
    throw err;
  }
  writeFileSync(ownerFile, JSON.stringify({ pid: process.pid, started_at: new Date().toISOString() }) + '\n', { mode: 0o600 });
  let held = true;
  return {
    file,
    release() {
      if (!held) return;
      held = false;
      rmSync(ownerFile, { force: true });
      db.close(); // rolls back the open transaction: the lock is free
    },
  };
}

/** `pid N, http://…` from what the running daemon wrote, as far as it got. */
function describeOwner(ownerFile: string, infoFile: string): string {
  const read = (f: string): { pid?: number; url?: string } => {
    try {
      return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { pid?: number; url?: string }) : {};
    } catch {
      return {};
    }
  };
  const owner = read(ownerFile);
  const info = read(infoFile);
  const pid = owner.pid ?? info.pid;
  // A pid left by a daemon killed earlier is not the holder: the holder rewrites it at once.
  if (pid === undefined || !alive(pid)) return 'starting up';
  return info.url && info.pid === pid ? `pid ${pid}, ${info.url}` : `pid ${pid}, starting up`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
