import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { colonyPaths } from '../daemon/paths.js';
import { ColonyError } from '../lib/errors.js';
import { resolveRepoRoot } from './repo.js';

interface ServeFlags {
  repo?: string;
  host?: string;
  port?: string;
  maxConcurrency?: string;
  maxQueueDepth?: string;
  jobTimeout?: string;
  jobTtl?: string;
  hub?: string;
  repoId?: string;
  syncEvery?: string;
  json?: boolean;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One daemon per repository: refuse to start beside a live one. */
function assertNotRunning(repo: string): void {
  const info = colonyPaths(repo).daemonInfo;
  if (!existsSync(info)) return;
  try {
    const { pid, url } = JSON.parse(readFileSync(info, 'utf8')) as { pid: number; url: string };
    if (pid !== process.pid && isAlive(pid)) {
      throw new ColonyError('already_running', `a colony daemon is already running for ${repo} (pid ${pid}, ${url})`);
    }
  } catch (err) {
    if (err instanceof ColonyError) throw err;
    // An unreadable info file is stale: the new daemon overwrites it.
  }
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the Colony daemon for a repository (HTTP API, MCP socket, job runner)')
    .option('--repo <dir>', 'repository to serve (default: the git repository of the current directory)')
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--port <port>', 'HTTP port (default: 7420, or a free one when another daemon has it; 0 picks a free one)')
    .option('--max-concurrency <n>', 'jobs running at once (default 10)')
    .option('--max-queue-depth <n>', 'jobs in flight, running + waiting, before 429 (default 100)')
    .option('--job-timeout <s>', 'seconds a job may run, from running (default 1800)')
    .option('--job-ttl <s>', 'seconds a finished job is kept (default 3600)')
    .option('--hub <url>', 'hub to keep coordination records in sync with')
    .option('--repo-id <owner/slug>', "this repository's id on the hub")
    .option('--sync-every <s>', 'seconds between syncs with the hub (default 0: off; 10 when --hub is given)')
    .option('--json', 'print the listening address as JSON once ready')
    .addHelpText(
      'after',
      '\nConfiguration, highest first: these flags, COLONY_* environment variables, .colony/config.json, defaults.',
    )
    .action(async (flags: ServeFlags) => {
      // The daemon's modules load only when it starts, not for `serve --help`.
      const [{ loadConfig }, { startDaemon }] = await Promise.all([import('../daemon/config.js'), import('../daemon/daemon.js')]);
      const repo = resolveRepoRoot(flags.repo);
      const config = loadConfig(repo, {
        host: flags.host,
        port: flags.port,
        max_concurrency: flags.maxConcurrency,
        max_queue_depth: flags.maxQueueDepth,
        job_timeout: flags.jobTimeout,
        job_ttl: flags.jobTtl,
        hub_url: flags.hub,
        repo_id: flags.repoId,
        sync_every: flags.syncEvery ?? (flags.hub ? '10' : undefined),
      });
      assertNotRunning(repo);
      const daemon = await startDaemon({ config });
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) {
          process.stderr.write(`colony: second ${signal}, exiting now\n`);
          process.exit(130);
        }
        stopping = true;
        process.stderr.write(`colony: ${signal} received, shutting down\n`);
        daemon.close().then(
          () => process.exit(0),
          (err: Error) => {
            process.stderr.write(`colony: shutdown failed: ${err.message}\n`);
            process.exit(1);
          },
        );
      };
      // SIGHUP too: a daemon whose terminal closes shuts down as cleanly as on Ctrl-C, instead
      // of dying at once and leaving its agents' process groups running.
      // Before the address is printed: whoever waits for it may signal at once.
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
      if (flags.json) process.stdout.write(JSON.stringify({ url: daemon.url, repo, pid: process.pid }) + '\n');
      else process.stderr.write(`colony: serving ${repo} at ${daemon.url} (token in ${daemon.paths.token})\n`);
      // Keep running until a signal arrives.
      await new Promise<never>(() => undefined);
    });
}
