import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { closeSync, existsSync, fstatSync, openSync, readFileSync } from 'node:fs';
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

/** What the daemon wrote to its log from `offset` on (its start-up error), trimmed. */
function logSince(file: string, offset: number): string {
  try {
    const buf = readFileSync(file);
    return buf.subarray(Math.min(offset, buf.length)).toString('utf8').trim().split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

/**
 * Connect to the repository's daemon socket, starting a daemon in the background when
 * none answers (its output goes to .colony/daemon.log), and wait for it. A daemon that exits
 * before answering (bad configuration, a missing package…) is reported at once, with what it
 * said, rather than after the timeout.
 */
export async function connectOrStart(repo: string, timeoutMs = 20_000): Promise<Socket> {
  try {
    return await connect(socketPathOf(repo));
  } catch {
    /* start one below */
  }
  const paths = colonyPaths(repo);
  const logFile = join(paths.dir, 'daemon.log');
  const log = openSync(logFile, 'a');
  const offset = fstatSync(log).size;
  const child = spawn(process.execPath, [COLONY_BIN, 'serve', '--repo', repo], {
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
  });
  closeSync(log);
  child.unref();
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `was killed by ${signal}` : `exited with code ${code}`));
  child.once('error', (err) => (exited = `could not be started (${err.message})`));
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await connect(socketPathOf(repo));
    } catch {
      if (exited !== undefined) {
        const said = logSince(logFile, offset);
        // Another client started the daemon at the same moment: wait for that one.
        if (!/already running/.test(said)) {
          throw new ColonyError('daemon_failed', `the colony daemon for ${repo} ${exited}${said ? `:\n${said}` : ''}\n(log: ${logFile})`);
        }
      }
      if (Date.now() > end) {
        throw new ColonyError('no_daemon', `started a colony daemon for ${repo} but its socket did not answer in time; see ${logFile}`);
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
