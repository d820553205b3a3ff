import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { sha256Hex } from '../lib/ids.js';
import { ColonyError } from '../lib/errors.js';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_PORT, embedderSettings, type ColonyConfig } from './config.js';
import { colonyPaths, ensureColonyDir, type ColonyPaths } from './paths.js';
import { loadOrCreateToken } from './token.js';
import { acquireDaemonLock, type DaemonLock } from './lock.js';
import { colonyMigrations } from './migrations.js';
import { checkpointOnTimer, openDatabase, type Db } from '../lib/sqlite.js';
import { createLogger, type Logger } from '../lib/log.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { VERSION } from '../version.js';
import { buildApp } from '../http/app.js';
import { Runner } from '../runner/runner.js';
import { buildToolMap } from '../mcp/registry.js';
import type { ToolDef } from '../mcp/tool.js';
import { coordTools } from '../mcp/tools/coord.js';
import { memoryTools } from '../mcp/tools/memory.js';
import { MemoryService } from '../memory/service.js';
import { MemoryWorkers } from '../memory/pool.js';
import { Reembedder } from '../memory/reembed.js';
import { listenMemoryLog } from '../memory/log-channel.js';
import { LexicalEmbedder, checkEmbedder, prepareEmbedder, type Embedder } from '../memory/embedders/index.js';
import { startSocketServer, type SocketServer } from '../mcp/socket-server.js';
import { agentMcpServer } from '../mcp/agent-config.js';
import { CoordService } from '../coord/service.js';
import { describeHolders, installPreCommitHook, reservedByOtherRuns } from '../coord/hook.js';
import { startSyncLoop } from '../coord/sync/index.js';
import { startGcLoop } from '../coord/gc.js';
import { LandService } from '../land/index.js';
import { jobTools } from '../mcp/tools/jobs.js';
import { SwarmService } from '../swarm/index.js';

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
  land: LandService;
  swarms: SwarmService;
  coord: CoordService;
  memory: MemoryService;
  reembedder: Reembedder;
  tools: ReadonlyMap<string, ToolDef>;
  socket: SocketServer;
  app: FastifyInstance;
  logger: Logger;
  close(): Promise<void>;
}

/**
 * Unix socket paths are limited to about 104 bytes; a deeply nested repository gets its
 * socket in the temp directory instead (named by the repository, recorded in daemon.json).
 */
function socketPath(paths: ColonyPaths): string {
  if (Buffer.byteLength(paths.socket) < 100) return paths.socket;
  return join(tmpdir(), `colony-${sha256Hex(paths.dir).slice(0, 16)}.sock`);
}

/**
 * Listen on the configured port; with none configured, on DEFAULT_PORT, or on a free port when
 * another daemon (another repository's) has it. Clients find the port in daemon.json.
 */
async function listen(app: FastifyInstance, host: string, port: number | undefined): Promise<void> {
  if (port !== undefined) {
    await app.listen({ host, port });
    return;
  }
  try {
    await app.listen({ host, port: DEFAULT_PORT });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    await app.listen({ host, port: 0 });
  }
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
  const settings = embedderSettings(config);
  // A missing embedder package fails start-up (saying what to run), not every memory call.
  await checkEmbedder(settings);
  ensureColonyDir(paths);
  // Before anything touches the database: a second daemon must not mark the first's jobs interrupted.
  const lock = await acquireDaemonLock(paths.dir, config.repo, paths.daemonInfo);
  try {
    return await startLocked(config, logger, clock, paths, settings, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startLocked(
  config: ColonyConfig,
  logger: Logger,
  clock: Clock,
  paths: ColonyPaths,
  settings: ReturnType<typeof embedderSettings>,
  lock: DaemonLock,
): Promise<Daemon> {
  const token = loadOrCreateToken(paths.token, config.token);
  const db = openDatabase(paths.db, { migrations: colonyMigrations });
  const stopCheckpoints = checkpointOnTimer(db);

  let shuttingDown = false;
  const coord = new CoordService({ db, clock });
  const land = new LandService({
    db,
    clock,
    logger: logger.child({ component: 'land' }),
    coord,
    repo: config.repo,
    scratchDir: join(paths.dir, 'land'),
    integrate: config.integrate,
    orchestrate: config.orchestrate,
  });
  // Every job's agent gets Colony's MCP tools and the reservation-aware pre-commit hook.
  const runner = new Runner({
    db,
    config,
    clock,
    logger: logger.child({ component: 'runner' }),
    paths,
    hooks: land.hooks(),
    extras: {
      mcpServer: () => agentMcpServer({ repo: config.repo }),
      checkCommit: (paths, runId) => {
        const blocked = reservedByOtherRuns((i) => coord.check(i), paths, runId);
        return blocked.length ? `the job's changes touch files reserved by other runs, so its branch was not kept: ${describeHolders(blocked)}` : undefined;
      },
      onWorkspace: async (ws) => {
        await installPreCommitHook(ws.dir);
      },
    },
  });

  const memoryLog = logger.child({ component: 'memory' });
  const stopMemoryLog = listenMemoryLog((msg) => memoryLog.info(msg));
  const ready = prepareEmbedder(settings, (msg) => memoryLog.info(msg));
  ready.catch(() => undefined); // reported by the first use below
  // Test-only switch: the workers' recall on the event loop, so the memory daemon conformance
  // test can show its scenario fails without the threads. Never set it in use.
  const recallInline = process.env.COLONY_TEST_RECALL_INLINE === '1';
  if (recallInline) logger.warn('COLONY_TEST_RECALL_INLINE=1: recalling on the main thread (test only)');
  let recallPool: MemoryWorkers;
  try {
    recallPool = recallInline ? MemoryWorkers.inline(paths.db, clock, settings, ready) : await MemoryWorkers.start(paths.db, clock, settings, ready);
  } catch (err) {
    stopMemoryLog();
    stopCheckpoints();
    db.close();
    throw err;
  }
  // Lexical vectors cost microseconds: made in line. Others on the workers, after preparation.
  const embedder: Embedder =
    settings.spec === 'lexical'
      ? new LexicalEmbedder()
      : recallPool.embedder();
  const memory = new MemoryService(db, clock, embedder);
  const reembedder = new Reembedder(memory, { info: (m) => memoryLog.info(m), warn: (m) => memoryLog.warn(m) });
  // Load the embedder now (not on the first call), say whether it works, then bring old vectors up to date.
  void (async () => {
    try {
      await embedder.embed(['colony']);
      if (!embedder.lexical) memoryLog.info(`memory embedder ${embedder.id} ready`);
    } catch (err) {
      memoryLog.error(`memory embedder ${embedder.id} unavailable: ${(err as Error).message}`);
    }
    reembedder.start();
  })();
  land.attach(runner);
  const swarms = new SwarmService({ db, clock, logger: logger.child({ component: 'swarm' }), coord, runner, land, defaultAgent: config.default_agent });
  // Before runner.start: a follow-up queued at the last shutdown stays held until its swarm has a slot.
  land.gateFollowUps((job, continues) => swarms.followUpMayStart(job, continues));
  const toolDefs: ToolDef[] = [...coordTools(coord), ...memoryTools(memory, recallPool), ...jobTools(runner, land)];
  const tools = buildToolMap(toolDefs);

  const app = buildApp({
    config,
    token,
    version: VERSION,
    logger,
    runner,
    land,
    swarms,
    coord,
    memory,
    tools,
    isShuttingDown: () => shuttingDown,
  });
  try {
    await listen(app, config.host, config.port);
  } catch (err) {
    await reembedder.close();
    await recallPool.close();
    stopMemoryLog();
    stopCheckpoints();
    db.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ColonyError('port_in_use', `port ${config.port} on ${config.host} is already in use; pass --port (0 picks a free one)`);
    if (code === 'EADDRNOTAVAIL') throw new ColonyError('bad_host', `cannot bind ${config.host}: no such local address`);
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (config.port ?? DEFAULT_PORT);
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  runner.setDaemonUrl(url, token);
  const socket = await startSocketServer({ path: socketPath(paths), tools, logger: logger.child({ component: 'mcp' }) });

  writeFileSync(paths.daemonInfo, JSON.stringify({ pid: process.pid, url, socket: socket.path, version: VERSION }), {
    mode: 0o600,
  });
  runner.start();
  await land.start();
  swarms.start();
  const stopSync =
    config.hub_url && config.repo_id && config.sync_every > 0
      ? startSyncLoop(coord, { hubUrl: config.hub_url, repoId: config.repo_id, identityFile: paths.identityKey }, config.sync_every, logger.child({ component: 'sync' }))
      : () => undefined;
  const gcLog = logger.child({ component: 'gc' });
  const stopGc =
    config.gc_every > 0
      ? startGcLoop((o) => coord.gc(o), { everySeconds: config.gc_every, graceSeconds: config.gc_grace, log: gcLog })
      : () => undefined;
  logger.info({ url, repo: config.repo }, 'colony daemon listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      shuttingDown = true;
      stopSync();
      stopGc();
      // Swarms first: the jobs shutdown cancels are retried by the next daemon, not this one.
      swarms.stop();
      // Stop taking work first, then let running jobs finish within the grace period.
      await runner.shutdown(config.shutdown_grace * 1000);
      await land.stop();
      await socket.close();
      await app.close();
      await reembedder.close();
      await embedder.close?.();
      await recallPool.close();
      stopMemoryLog();
      rmSync(paths.daemonInfo, { force: true });
      stopCheckpoints();
      db.close();
      lock.release();
      logger.info('colony daemon stopped');
    })();
    return closing;
  };

  return { config, paths, db, url, token, runner, land, swarms, coord, memory, reembedder, tools, socket, app, logger, close };
}
