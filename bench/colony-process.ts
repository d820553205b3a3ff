// `colony serve` / `colony hub serve` as real child processes, for benches and tests:
// started with --json, ready once they print their address.
import { spawn, type ChildProcess } from 'node:child_process';
import { COLONY_BIN } from '../src/lib/package-root.js';

export { COLONY_BIN };

export interface ColonyProcess {
  child: ChildProcess;
  url: string;
  /** What it printed on stderr so far. */
  stderr: () => string;
  /** Signal it (SIGTERM by default) and wait for it to exit. */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

export function spawnColony(args: string[], env: Record<string, string | undefined> = {}): Promise<ColonyProcess> {
  const child = spawn(process.execPath, [COLONY_BIN, ...args, '--json'], {
    env: { ...process.env, COLONY_LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ child, url: (JSON.parse(out.slice(0, nl)) as { url: string }).url, stderr: () => err, stop });
    });
    child.once('exit', (code) => reject(new Error(`colony ${args[0]} exited with ${code}: ${err}`)));
  });
}
