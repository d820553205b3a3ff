import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { Clock } from '../lib/clock.js';
import { PACKAGE_ROOT } from '../lib/package-root.js';
import { validateRecall, type RecallInput, type RecallResult } from './recall.js';

/** The compiled worker: workers run JavaScript, so this is always the built file. */
const WORKER = join(PACKAGE_ROOT, 'dist', 'src', 'memory', 'recall-worker.js');

/**
 * Recall on a pool of worker threads, one read-only connection each: a slow recall on one
 * connection never delays a cheap call on another. Input is checked here first so errors
 * keep their type (they would lose it crossing the thread boundary).
 */
export class RecallPool {
  private readonly pool: Piscina;

  private constructor(
    private readonly dbPath: string,
    private readonly clock: Clock,
  ) {
    this.pool = new Piscina({
      filename: WORKER,
      minThreads: 1,
      maxThreads: Math.max(1, Math.min(4, availableParallelism())),
      idleTimeout: 60_000,
    });
  }

  /** A pool, or undefined when the worker has not been built (then recall runs in-thread). */
  static open(dbPath: string, clock: Clock): RecallPool | undefined {
    return existsSync(WORKER) ? new RecallPool(dbPath, clock) : undefined;
  }

  recall(input: RecallInput, signal?: AbortSignal): Promise<RecallResult> {
    validateRecall(input);
    return this.pool.run({ dbPath: this.dbPath, input, now: this.clock.now() }, { signal });
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
