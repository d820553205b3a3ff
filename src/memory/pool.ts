import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { Clock } from '../lib/clock.js';
import { PACKAGE_ROOT } from '../lib/package-root.js';
import { ColonyError } from '../lib/errors.js';
import { embedderId, type Embedder, type EmbedderSettings } from './embedders/index.js';
import { validateRecall, type RecallInput, type RecallResult } from './recall.js';
import type { WorkerResult, WorkerSetup, WorkerTask } from './worker.js';

/** The compiled worker: workers run JavaScript, so this is always the built file. */
export const MEMORY_WORKER = join(PACKAGE_ROOT, 'dist', 'src', 'memory', 'worker.js');

/** How long a fresh pool may take to answer its first ping before start-up gives up. */
const PING_TIMEOUT_MS = 60_000;

/**
 * Recall and embedding on a pool of worker threads, one read-only connection each: a slow
 * recall or a model on one connection never delays a cheap call on another. Input is
 * checked here first so errors keep their type (they would lose it crossing the thread
 * boundary).
 */
export class MemoryWorkers {
  private readonly pool: Piscina;

  private constructor(
    dbPath: string,
    private readonly clock: Clock,
    private readonly settings: EmbedderSettings,
    private readonly ready: Promise<void>,
    workerFile: string,
  ) {
    // A fixed set of threads, started (and warmed: connection, statements, embedder) up
    // front. One more than the cores: the OS then shares the cores among concurrent calls
    // instead of queueing the last one behind the others.
    const threads = Math.min(8, availableParallelism() + 1);
    this.pool = new Piscina({
      filename: workerFile,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Infinity,
      workerData: { dbPath, settings } satisfies WorkerSetup,
    });
    // A thread that fails to load is reported by the task it was given (start()'s ping, or a
    // recall's rejection); unheard, the pool's 'error' event would take the daemon down.
    this.pool.on('error', () => undefined);
  }

  /**
   * Start the pool and prove a worker loads (a ping), or throw: recall never falls back to
   * the daemon's event loop, where one slow call would hold every connection. No recall or
   * embedding is sent before `ready` (the embedder's one-off preparation, see prepareEmbedder).
   */
  static async start(
    dbPath: string,
    clock: Clock,
    settings: EmbedderSettings,
    ready: Promise<void> = Promise.resolve(),
    workerFile: string = MEMORY_WORKER,
  ): Promise<MemoryWorkers> {
    if (!existsSync(workerFile)) {
      throw new ColonyError('memory_worker_missing', `the memory worker ${workerFile} is missing; build Colony (npm run build) before starting the daemon`);
    }
    const pool = new MemoryWorkers(dbPath, clock, settings, ready, workerFile);
    try {
      const r = (await pool.pool.run({ op: 'ping' } satisfies WorkerTask, { signal: AbortSignal.timeout(PING_TIMEOUT_MS) })) as WorkerResult;
      if (!('ok' in r) || r.ok !== 'pong') throw new Error('unexpected answer to ping');
    } catch (err) {
      await pool.close().catch(() => undefined);
      throw new ColonyError('memory_worker_failed', `the memory worker ${workerFile} could not be loaded: ${(err as Error).message}`);
    }
    return pool;
  }

  recall(input: RecallInput, signal?: AbortSignal): Promise<RecallResult> {
    validateRecall(input);
    return this.run({ op: 'recall', input, now: this.clock.now() }, signal) as Promise<RecallResult>;
  }

  private async run(task: WorkerTask, signal?: AbortSignal): Promise<RecallResult | Float32Array[]> {
    await this.ready;
    const r = (await this.pool.run(task, { signal })) as WorkerResult;
    if ('error' in r) throw new ColonyError(r.error.code, r.error.message, r.error.status);
    return r.ok as RecallResult | Float32Array[];
  }

  /** The configured embedder, run on the pool (for stores and re-embedding). */
  embedder(): Embedder {
    return {
      id: embedderId(this.settings.spec),
      lexical: this.settings.spec === 'lexical',
      embed: (texts) => this.run({ op: 'embed', texts }) as Promise<Float32Array[]>,
    };
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
