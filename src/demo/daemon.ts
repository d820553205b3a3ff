import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { COLONY_BIN } from '../lib/package-root.js';
import { ColonyError } from '../lib/errors.js';
import { colonyPaths } from '../daemon/paths.js';

export interface DemoDaemon {
  url: string;
  token: string;
  pid: number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
  /** Resolves when the daemon exits by itself (or is stopped). */
  exited: Promise<number | null>;
}

/** Seconds `colony serve` may take to listen before the demo gives up. */
const START_TIMEOUT_MS = 30_000;

/**
 * `colony serve` for the demo repository as a child process (the daemon a user would run),
 * on a free port. The user's own COLONY_* settings are left out: the demo's configuration is
 * its repository's `.colony/config.json`.
 */
export function startDemoDaemon(repo: string): Promise<DemoDaemon> {
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COLONY_')));
  const child: ChildProcess = spawn(process.execPath, [COLONY_BIN, 'serve', '--repo', repo, '--port', '0', '--json'], {
    env: { ...env, COLONY_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void stop(1000);
      reject(new ColonyError('demo_daemon', `colony serve did not start within ${START_TIMEOUT_MS / 1000}s: ${err.trim()}`));
    }, START_TIMEOUT_MS);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      const { url } = JSON.parse(out.slice(0, nl)) as { url: string };
      const token = readFileSync(colonyPaths(repo).token, 'utf8').trim();
      resolve({ url, token, pid: child.pid!, stop, exited });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new ColonyError('demo_daemon', `colony serve exited (${code}) before listening: ${err.trim()}`));
    });
  });
}
