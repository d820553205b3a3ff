import type { Db } from '../lib/sqlite.js';
import type { Clock } from '../lib/clock.js';
import { InvalidInputError } from '../lib/errors.js';
import { CoordStore, type GatherCursor } from './store.js';
import { Reservations } from './reservations.js';
import { Tasks } from './tasks.js';
import { collectGarbage, type GcOptions, type GcResult } from './gc.js';
import { writeRemoteRecords, type Refusal } from './remote.js';
import { RECORD_KINDS, type RecordKind, type WireRecord } from './wire.js';

export type { Holder, ReserveResult, HeartbeatResult, ReservationMode } from './reservations.js';
export type { ReadyTask, TaskListEntry, TaskDetail, ClaimResult } from './tasks.js';
export { MAX_TASK_RESERVE } from './tasks.js';
export type { GcResult, GcOptions } from './gc.js';
export type { GatherCursor } from './store.js';
export type { Refusal } from './remote.js';
export { DEFAULT_TTL_S, MAX_TTL_S } from './inputs.js';

/**
 * Coordination for a swarm, callable in-process: reservations with conflict checks,
 * intents, heartbeats, dependencies, tasks and claims, gc, and the record log that sync
 * exchanges with a hub. Every write is one SQLite transaction (IMMEDIATE, so processes
 * sharing the file serialise); records from other colonies take part exactly like local
 * ones. Time comes from the injected clock.
 */
export class CoordService {
  readonly store: CoordStore;
  private readonly clock: Clock;
  private readonly reservations: Reservations;
  private readonly tasks: Tasks;

  constructor(opts: { db: Db; clock: Clock }) {
    this.store = new CoordStore(opts.db);
    this.clock = opts.clock;
    this.reservations = new Reservations(this.store, this.clock);
    this.tasks = new Tasks(this.store, this.clock);
  }

  // ---- reservations
  reserve(input: Parameters<Reservations['reserve']>[0]): ReturnType<Reservations['reserve']> {
    return this.reservations.reserve(input);
  }
  release(input: Parameters<Reservations['release']>[0]): ReturnType<Reservations['release']> {
    return this.reservations.release(input);
  }
  heartbeat(input: Parameters<Reservations['heartbeat']>[0]): ReturnType<Reservations['heartbeat']> {
    return this.reservations.heartbeat(input);
  }
  intent(input: Parameters<Reservations['intent']>[0]): ReturnType<Reservations['intent']> {
    return this.reservations.intent(input);
  }
  depend(input: Parameters<Reservations['depend']>[0]): ReturnType<Reservations['depend']> {
    return this.reservations.depend(input);
  }
  check(input: Parameters<Reservations['check']>[0]): ReturnType<Reservations['check']> {
    return this.reservations.check(input);
  }
  status(input: Parameters<Reservations['status']>[0] = {}): ReturnType<Reservations['status']> {
    return this.reservations.status(input);
  }

  // ---- tasks and claims
  taskCreate(input: Parameters<Tasks['create']>[0]): ReturnType<Tasks['create']> {
    return this.tasks.create(input);
  }
  taskDepend(input: Parameters<Tasks['depend']>[0]): ReturnType<Tasks['depend']> {
    return this.tasks.depend(input);
  }
  taskClaim(input: Parameters<Tasks['claim']>[0]): ReturnType<Tasks['claim']> {
    return this.tasks.claim(input);
  }
  taskComplete(input: Parameters<Tasks['complete']>[0]): ReturnType<Tasks['complete']> {
    return this.tasks.complete(input);
  }
  taskAbandon(input: Parameters<Tasks['abandon']>[0]): ReturnType<Tasks['abandon']> {
    return this.tasks.abandon(input);
  }
  taskReady(input: Parameters<Tasks['ready']>[0] = {}): ReturnType<Tasks['ready']> {
    return this.tasks.ready(input);
  }
  taskGet(taskId: string): ReturnType<Tasks['get']> {
    return this.tasks.get(taskId);
  }
  tasksOfRun(input: Parameters<Tasks['ofRun']>[0]): ReturnType<Tasks['ofRun']> {
    return this.tasks.ofRun(input);
  }
  taskList(input: Parameters<Tasks['list']>[0] = {}): ReturnType<Tasks['list']> {
    return this.tasks.list(input);
  }

  // ---- maintenance and sync
  gc(opts: GcOptions = {}): GcResult {
    return collectGarbage(this.store, this.clock, opts);
  }

  /**
   * Records of these kinds in wire form (local and remote), oldest first; with `limit`,
   * one page after the `after` cursor (the last record of the previous page).
   */
  gatherRecords(kinds: readonly RecordKind[] = RECORD_KINDS, opts: { origin?: string; after?: GatherCursor; limit?: number } = {}): WireRecord[] {
    if (!Array.isArray(kinds) || kinds.length === 0) throw new InvalidInputError('kinds: at least one record kind', { fields: ['kinds'] });
    for (const k of kinds) if (!RECORD_KINDS.includes(k)) throw new InvalidInputError(`kinds: unknown kind '${k}'`, { fields: ['kinds'] });
    return this.store.gather([...new Set(kinds)], opts);
  }

  /** Store records from other colonies, tagged with their origin; see remote.ts. */
  writeRemoteRecords(records: readonly WireRecord[]): { inserted: number; skipped: number; refused: Refusal[] } {
    return writeRemoteRecords(this.store, { reservations: this.reservations, tasks: this.tasks }, records);
  }
}
