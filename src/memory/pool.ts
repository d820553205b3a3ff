import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { Clock } from '../lib/clock.js';
import { PACKAGE_ROOT } from '../lib/package-root.js';
import { ColonyError } from '../lib/errors.js';
import { embedderId, type Embedder, type EmbedderSettings } from './embedders/index.js';
import { validateRecall, type RecallInput, type RecallResult } from './recall.js';
import { taskRunner, type WorkerResult, type WorkerSetup, type WorkerTask } from './worker-tasks.js';

/** The compiled worker: workers run JavaScript, so this is always the built file. */
export const MEMORY_WORKER = join(PACKAGE_ROOT, 'dist', 'src', 'memory', 'worker.js');

/** How long a fresh pool may take to answer its first ping before start-up gives up. */
const PING_TIMEOUT_MS = 60_000;

/** Runs a task where recall runs: the thread pool, or (test only) this thread. */
interface Placement {
  run(task: WorkerTask, signal?: AbortSignal): Promise<WorkerResult>;
  close(): Promise<void>;
}

/**
 * Recall and embedding on a pool of worker threads, one read-only connection each: a slow
 * recall or a model on one connection never delays a cheap call on another. Input is
 * checked here first so errors keep their type (they would lose it crossing the thread
 * boundary).
 */
export class MemoryWorkers {
  private constructor(
    private readonly placement: Placement,
    private readonly clock: Clock,
    private readonly settings: EmbedderSettings,
    private readonly ready: Promise<void>,
  ) {}

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
    // A fixed set of threads, started (and warmed: connection, statements, embedder) up
    // front. One more than the cores: the OS then shares the cores among concurrent calls
    // instead of queueing the last one behind the others.
    const threads = Math.min(8, availableParallelism() + 1);
    const pool = new Piscina({
      filename: workerFile,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Infinity,
      // Piscina times every task into histograms by default; nothing reads them, and the
      // clock reads and records are main-thread work on every recall.
      recordTiming: false,
      workerData: { dbPath, settings } satisfies WorkerSetup,
    });
    // A thread that fails to load is reported by the task it was given (start()'s ping, or a
    // recall's rejection); unheard, the pool's 'error' event would take the daemon down.
    pool.on('error', () => undefined);
    const placement: Placement = {
      run: (task, signal) => pool.run(task, { signal }) as Promise<WorkerResult>,
      close: () => pool.destroy(),
    };
    try {
      const r = await placement.run({ op: 'ping' }, AbortSignal.timeout(PING_TIMEOUT_MS));
      if (!('ok' in r) || r.ok !== 'pong') throw new Error('unexpected answer to ping');
    } catch (err) {
      await placement.close().catch(() => undefined);
      throw new ColonyError('memory_worker_failed', `the memory worker ${workerFile} could not be loaded: ${(err as Error).message}`);
    }
    return new MemoryWorkers(placement, clock, settings, ready);
  }

  /**
   * Test only (COLONY_TEST_RECALL_INLINE): the workers' own task runner on this thread, so
   * every recall blocks the event loop. The memory daemon conformance test uses it to show
   * that its scenario fails without the threads. Never used in service.
   */
  static inline(dbPath: string, clock: Clock, settings: EmbedderSettings, ready: Promise<void> = Promise.resolve()): MemoryWorkers {
    const runner = taskRunner({ dbPath, settings });
    return new MemoryWorkers({ run: (task) => runner.run(task), close: () => runner.close() }, clock, settings, ready);
  }

  recall(input: RecallInput, signal?: AbortSignal): Promise<RecallResult> {
    validateRecall(input);
    return this.run({ op: 'recall', input, now: this.clock.now() }, signal) as Promise<RecallResult>;
  }

  private async run(task: WorkerTask, signal?: AbortSignal): Promise<RecallResult | Float32Array[]> {
    await this.ready;
    const r = await this.placement.run(task, signal);
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
    return this.placement.close();
  }
}
