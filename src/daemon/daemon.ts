import { writeFileSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ColonyConfig } from './config.js';
import { colonyPaths, type ColonyPaths } from './paths.js';
import { loadOrCreateToken } from './token.js';
import { colonyMigrations } from './migrations.js';
import { openDatabase, type Db } from '../lib/sqlite.js';
import { createLogger, type Logger } from '../lib/log.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { VERSION } from '../version.js';
import { buildApp } from '../http/app.js';
import { Runner } from '../runner/runner.js';
import { buildToolMap } from '../mcp/registry.js';
import type { ToolDef } from '../mcp/tool.js';

export interface DaemonOptions {
  config: ColonyConfig;
  logger?: Logger;
  clock?: Clock;
}

/** A running daemon: every service it wires, and how to stop it. */
export interface Daemon {
  config: ColonyConfig;
  paths: ColonyPaths;
  db: Db;
  url: string;
  token: string;
  runner: Runner;
  tools: ReadonlyMap<string, ToolDef>;
  app: FastifyInstance;
  logger: Logger;
  close(): Promise<void>;
}

/** Keep the colony's state out of the repository's own status. */
function ensureColonyDir(paths: ColonyPaths): void {
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const ignore = join(paths.dir, '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '*\n');
}

/**
 * Composition root: open the store, build the domains, serve HTTP and the MCP socket.
 * Domain modules never see each other's transports; only this file knows them all.
 */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger(config.log_level);
  const clock = opts.clock ?? systemClock;
  const paths = colonyPaths(config.repo);
  ensureColonyDir(paths);
  const token = loadOrCreateToken(paths.token, config.token);
  const db = openDatabase(paths.db, { migrations: colonyMigrations });

  let shuttingDown = false;
  const runner = new Runner({ db, config, clock, logger: logger.child({ component: 'runner' }), paths });

  const toolDefs: ToolDef[] = [
    // domain tools: add spread lines here
  ];
  const tools = buildToolMap(toolDefs);

  const app = buildApp({
    config,
    token,
    version: VERSION,
    logger,
    runner,
    tools,
    isShuttingDown: () => shuttingDown,
  });
  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  runner.setDaemonUrl(url, token);

  writeFileSync(paths.daemonInfo, JSON.stringify({ pid: process.pid, url, socket: paths.socket, version: VERSION }), {
    mode: 0o600,
  });
  runner.start();
  logger.info({ url, repo: config.repo }, 'colony daemon listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      shuttingDown = true;
      // Stop taking work first, then let running jobs finish within the grace period.
      await runner.shutdown(config.shutdown_grace * 1000);
      await app.close();
      rmSync(paths.daemonInfo, { force: true });
      db.close();
      logger.info('colony daemon stopped');
    })();
    return closing;
  };

  return { config, paths, db, url, token, runner, tools, app, logger, close };
}
