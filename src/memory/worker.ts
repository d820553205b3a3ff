// A piscina worker: recall on its own read-only connection, and embedding, so ranking and
// models never run on the daemon's event loop. WAL lets these readers work beside the
// daemon's writer. Each thread opens its connection and loads its embedder as it starts
// (from workerData), so the first call it takes is as quick as the rest.
import { workerData } from 'piscina';
import { taskRunner, type WorkerResult, type WorkerSetup, type WorkerTask } from './worker-tasks.js';

const runner = taskRunner(workerData as WorkerSetup);

// Start loading and warming now: the pool sends no task before the daemon's preparation is
// done, but threads start at once.
void runner.warm();

export default function run(task: WorkerTask): Promise<WorkerResult> {
  return runner.run(task);
}
