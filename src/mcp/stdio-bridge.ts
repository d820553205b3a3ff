import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { colonyPaths } from '../daemon/paths.js';
import { ColonyError } from '../lib/errors.js';
import { COLONY_BIN } from '../lib/package-root.js';

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function socketPathOf(repo: string): string {
  const info = colonyPaths(repo).daemonInfo;
  if (existsSync(info)) {
    try {
      return (JSON.parse(readFileSync(info, 'utf8')) as { socket: string }).socket;
    } catch {
      /* a daemon being written or gone: fall back to the default path */
    }
  }
  return colonyPaths(repo).socket;
}

/**
 * Connect to the repository's daemon socket, starting a daemon in the background when
 * none answers (its output goes to .colony/daemon.log), and wait for it.
 */
export async function connectOrStart(repo: string, timeoutMs = 20_000): Promise<Socket> {
  try {
    return await connect(socketPathOf(repo));
  } catch {
    /* start one below */
  }
  const paths = colonyPaths(repo);
  const log = openSync(join(paths.dir, 'daemon.log'), 'a');
  const child = spawn(process.execPath, [COLONY_BIN, 'serve', '--repo', repo], {
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
  });
  child.unref();
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await connect(socketPathOf(repo));
    } catch {
      if (Date.now() > end) {
        throw new ColonyError('no_daemon', `started a colony daemon for ${repo} but its socket did not answer in time; see ${join(paths.dir, 'daemon.log')}`);
      }
      await sleep(100);
    }
  }
}

/**
 * Pipe stdin to the daemon socket and the socket to stdout, byte for byte, until either
 * ends. With a run id (a job's agent has COLONY_RUN_ID), the connection first announces it
 * as a notification, which gets no answer, so the client sees a plain MCP server.
 */
export async function runStdioBridge(repo: string, runId?: string): Promise<void> {
  const socket = await connectOrStart(repo);
  if (runId) socket.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'colony/session', params: { run_id: runId } })}\n`);
  await new Promise<void>((resolve) => {
    process.stdin.pipe(socket);
    socket.pipe(process.stdout);
    process.stdin.on('end', () => socket.end());
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
}
