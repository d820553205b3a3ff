import { execFile } from 'node:child_process';
import { gone } from './process.js';
import { COLONY_BIN } from './daemon.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run the real `colony` CLI as a person would: in `cwd`, with no daemon address or run
 * inherited from the test's environment unless given. Never rejects.
 */
export function colony(args: string[], cwd: string, opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [COLONY_BIN, ...args],
      { cwd, env: { ...process.env, COLONY_URL: '', COLONY_TOKEN: '', COLONY_RUN_ID: '', ...opts.env }, timeout: opts.timeoutMs ?? 0 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Run with --json and parse stdout; exit code 2 (a refusal answer) still parses. */
export async function colonyJson(args: string[], cwd: string, env: Record<string, string> = {}): Promise<any> {
  const r = await colony([...args, '--json'], cwd, { env });
  if (r.code !== 0 && r.code !== 2) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

/** Is a process still alive? A zombie is not (see gone). */
export function alive(pid: number): boolean {
  return !gone(pid);
}
