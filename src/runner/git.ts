import { execFile } from 'node:child_process';
import { ColonyError } from '../lib/errors.js';

export interface GitOptions {
  cwd: string;
  /** Extra environment (merged over process.env). */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Allow these exit codes without throwing (e.g. 1 for `diff --quiet`). */
  okCodes?: number[];
}

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Run git with an argument array (never a shell), prompts disabled. Throws a ColonyError
 * naming the command and git's own message on failure.
 */
export function git(args: string[], opts: GitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd: opts.cwd,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...opts.env },
        maxBuffer: 256 * 1024 * 1024,
        signal: opts.signal,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr, code: 0 });
        const code = typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1;
        if (opts.okCodes?.includes(code)) return resolve({ stdout, stderr, code });
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          return reject(new ColonyError('git_missing', 'git not found on PATH'));
        }
        if ((err as NodeJS.ErrnoException).name === 'AbortError') return reject(new ColonyError('cancelled', 'cancelled'));
        const msg = (stderr || err.message).trim().split('\n').slice(-5).join('\n');
        reject(new ColonyError('git_failed', `git ${args.slice(0, 3).join(' ')} failed: ${msg}`, 500));
      },
    );
  });
}
