// A piscina worker: recall on its own read-only connection, and embedding, so ranking and
// models never run on the daemon's event loop. WAL lets these readers work beside the
// daemon's writer. Each thread opens its connection and loads its embedder as it starts
// (from workerData), so the first call it takes is as quick as the rest.
import { workerData } from 'piscina';
import { openDatabase } from '../lib/sqlite.js';
import { isColonyError } from '../lib/errors.js';
import { createEmbedder, type Embedder, type EmbedderSettings } from './embedders/index.js';
import { postMemoryLog } from './log-channel.js';
import { RecallEngine, type RecallInput, type RecallResult } from './recall.js';

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

const setup = workerData as WorkerSetup;
let embedder: Promise<Embedder> | undefined;
let engine: Promise<RecallEngine> | undefined;

function loadEmbedder(): Promise<Embedder> {
  // A failed load is tried again on the next task rather than remembered.
  embedder ??= createEmbedder(setup.settings, postMemoryLog, { prepared: true }).catch((err: unknown) => {
    embedder = undefined;
    throw err;
  });
  return embedder;
}

function loadEngine(): Promise<RecallEngine> {
  engine ??= loadEmbedder().then(
    (e) => new RecallEngine(openDatabase(setup.dbPath, { readonly: true }), e),
    (err: unknown) => {
      engine = undefined;
      throw err;
    },
  );
  return engine;
}

// Start loading now (the pool sends no task before the daemon's preparation is done, but
// threads start at once); failures surface on the first task that needs the engine.
// One throw-away recall then warms this thread's statements and page cache, so the first
// real call on a fresh thread is not several times slower than the rest.
loadEngine()
  .then((e) => e.recall({ cue: 'colony warm up', budget_tokens: 1 }, Date.now()))
  .catch(() => undefined);

export default async function run(task: WorkerTask): Promise<WorkerResult> {
  try {
    // Proves the worker loaded; the daemon sends it before it starts serving.
    if (task.op === 'ping') return { ok: 'pong' };
    if (task.op === 'embed') return { ok: await (await loadEmbedder()).embed(task.texts) };
    return { ok: await (await loadEngine()).recall(task.input, task.now) };
  } catch (err) {
    if (isColonyError(err)) return { error: { code: err.code, message: err.message, status: err.status } };
    throw err;
  }
}
