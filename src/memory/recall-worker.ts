// A piscina worker: recall on its own read-only connection, so ranking never runs on the
// daemon's event loop. WAL lets these readers work beside the daemon's writer.
import { openDatabase } from '../lib/sqlite.js';
import { RecallEngine, type RecallInput, type RecallResult } from './recall.js';

const engines = new Map<string, RecallEngine>();

export default function recall(task: { dbPath: string; input: RecallInput; now: number }): RecallResult {
  let engine = engines.get(task.dbPath);
  if (!engine) {
    engine = new RecallEngine(openDatabase(task.dbPath, { readonly: true }));
    engines.set(task.dbPath, engine);
  }
  return engine.recall(task.input, task.now);
}
