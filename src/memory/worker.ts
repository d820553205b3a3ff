// A piscina worker: recall on its own read-only connection, and embedding, so ranking and
// models never run on the daemon's event loop. WAL lets these readers work beside the
// daemon's writer. Each thread builds its embedder once, from the settings it is sent.
import { openDatabase } from '../lib/sqlite.js';
import { isColonyError } from '../lib/errors.js';
import { createEmbedder, type Embedder, type EmbedderSettings } from './embedders/index.js';
import { postMemoryLog } from './log-channel.js';
import { RecallEngine, type RecallInput, type RecallResult } from './recall.js';

export type WorkerTask =
  | { op: 'recall'; dbPath: string; settings: EmbedderSettings; input: RecallInput; now: number }
  | { op: 'embed'; settings: EmbedderSettings; texts: string[] };

const embedders = new Map<string, Promise<Embedder>>();
const engines = new Map<string, RecallEngine>();

function embedderFor(settings: EmbedderSettings): Promise<Embedder> {
  const key = JSON.stringify(settings);
  let e = embedders.get(key);
  if (!e) {
    e = createEmbedder(settings, postMemoryLog);
    // A failed load is retried on the next task rather than remembered.
    e.catch(() => embedders.delete(key));
    embedders.set(key, e);
  }
  return e;
}

/**
 * Errors lose their class and fields crossing the thread boundary, so a domain refusal
 * (an unreachable endpoint, a missing model) travels as data and is rebuilt on the other side.
 */
export type WorkerResult = { ok: RecallResult | Float32Array[] } | { error: { code: string; message: string; status: number } };

export default async function run(task: WorkerTask): Promise<WorkerResult> {
  try {
    return { ok: await perform(task) };
  } catch (err) {
    if (isColonyError(err)) return { error: { code: err.code, message: err.message, status: err.status } };
    throw err;
  }
}

async function perform(task: WorkerTask): Promise<RecallResult | Float32Array[]> {
  const embedder = await embedderFor(task.settings);
  if (task.op === 'embed') return embedder.embed(task.texts);
  const key = `${task.dbPath}\0${embedder.id}`;
  let engine = engines.get(key);
  if (!engine) {
    engine = new RecallEngine(openDatabase(task.dbPath, { readonly: true }), embedder);
    engines.set(key, engine);
  }
  return engine.recall(task.input, task.now);
}
