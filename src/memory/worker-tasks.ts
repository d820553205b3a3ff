// What a memory worker does with a task, apart from where it runs: on a piscina thread
// (worker.ts, always in use) or, under the test-only COLONY_TEST_RECALL_INLINE switch, on the
// daemon's own event loop (pool.ts) — the same engine, connection kind and code either way, so
// the conformance test compares the two placements and nothing else.
import { openDatabase } from '../lib/sqlite.js';
import { isColonyError } from '../lib/errors.js';
import { createEmbedder, type Embedder, type EmbedderSettings } from './embedders/index.js';
import { postMemoryLog } from './log-channel.js';
import { RecallEngine, type RecallInput, type RecallResult } from './recall.js';
import { burnTestRecallCost } from './test-recall-cost.js';

export interface WorkerSetup {
  dbPath: string;
  settings: EmbedderSettings;
}

export type WorkerTask = { op: 'recall'; input: RecallInput; now: number } | { op: 'embed'; texts: string[] } | { op: 'ping' };

/**
 * Errors lose their class and fields crossing the thread boundary, so a domain refusal
 * (an unreachable endpoint, a missing model) travels as data and is rebuilt on the other side.
 */
export type WorkerResult = { ok: RecallResult | Float32Array[] | 'pong' } | { error: { code: string; message: string; status: number } };

export interface TaskRunner {
  run(task: WorkerTask): Promise<WorkerResult>;
  /**
   * Load the engine and make one throw-away recall, warming the statements and page cache so
   * the first real call is not several times slower than the rest. Failures are left to the
   * first task that needs the engine.
   */
  warm(): Promise<void>;
  /** Close the read-only connection, if one was opened. */
  close(): Promise<void>;
}

/**
 * A runner with its own read-only connection and embedder, both loaded on first need. A
 * failed load is tried again on the next task rather than remembered.
 */
export function taskRunner(setup: WorkerSetup): TaskRunner {
  let embedder: Promise<Embedder> | undefined;
  let engine: Promise<{ engine: RecallEngine; close: () => void }> | undefined;

  const loadEmbedder = (): Promise<Embedder> =>
    (embedder ??= createEmbedder(setup.settings, postMemoryLog, { prepared: true }).catch((err: unknown) => {
      embedder = undefined;
      throw err;
    }));

  const loadEngine = (): Promise<RecallEngine> =>
    (engine ??= loadEmbedder().then(
      (e) => {
        const db = openDatabase(setup.dbPath, { readonly: true });
        return { engine: new RecallEngine(db, e), close: () => db.close() };
      },
      (err: unknown) => {
        engine = undefined;
        throw err;
      },
    )).then((l) => l.engine);

  return {
    async run(task) {
      try {
        // Proves the runner loaded; the daemon sends it before it starts serving.
        if (task.op === 'ping') return { ok: 'pong' };
        if (task.op === 'embed') return { ok: await (await loadEmbedder()).embed(task.texts) };
        const e = await loadEngine();
        burnTestRecallCost();
        return { ok: await e.recall(task.input, task.now) };
      } catch (err) {
        if (isColonyError(err)) return { error: { code: err.code, message: err.message, status: err.status } };
        throw err;
      }
    },
    async warm() {
      try {
        await (await loadEngine()).recall({ cue: 'colony warm up', budget_tokens: 1 }, Date.now());
      } catch {
        // reported by the first task instead
      }
    },
    async close() {
      const l = await engine?.catch(() => undefined);
      l?.close();
    },
  };
}
