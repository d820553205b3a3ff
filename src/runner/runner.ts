// Placeholder: the real runner lands in the next commit (the owner of issue 2 writes it).
import type { Db } from '../lib/sqlite.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import type { ColonyConfig } from '../daemon/config.js';
import type { ColonyPaths } from '../daemon/paths.js';
import type { ExecuteRequest, JobRecord } from './types.js';

export interface RunnerOptions { db: Db; config: ColonyConfig; clock: Clock; logger: Logger; paths: ColonyPaths }
export interface RunnerStats { active: number; queued: number; capacity: number; maxQueueDepth: number }
export class Runner {
  constructor(readonly opts: RunnerOptions) {}
  stats(): RunnerStats { return { active: 0, queued: 0, capacity: 1, maxQueueDepth: 1 }; }
  submit(_req: ExecuteRequest): { job_id: string; status: string; position: number } { throw new Error('todo'); }
  get(_id: string): JobRecord { throw new Error('todo'); }
  setDaemonUrl(_url: string): void {}
  start(): void {}
  async shutdown(_graceMs: number): Promise<void> {}
}
