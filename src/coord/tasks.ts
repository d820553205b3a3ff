import type { Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import { ForbiddenError, InvalidInputError, NotFoundError } from '../lib/errors.js';
import type { ClaimRow, CoordStore, TaskRow } from './store.js';
import { makeRecord } from './records.js';
import { idList, iso, limitOf, requireId, requireRun, ttlMs } from './inputs.js';
import type { WireRecord } from './wire.js';
import { parseSymbols } from './symbols.js';

export interface ReadyTask {
  task_id: string;
  description: string;
  priority: number;
  depends_on: string[];
}

/** A task with the files and symbols its creator said it will touch. */
export interface TaskDetail extends ReadyTask {
  run_id: string;
  reserve: string[];
  completed_at: string | null;
}

export interface TaskListEntry extends ReadyTask {
  run_id: string;
  created_at: string;
  completed_at: string | null;
  completed_by: string | null;
  claimed_by: string | null;
}

export type ClaimResult =
  | { claimed: true; expires_at: string }
  | { claimed: false; holder: { run_id: string; expires_at: string } | null; reason?: string };

interface TaskPayload {
  task_id: string;
  run_id: string;
  description: string;
  priority: number;
  depends_on: string[];
  completed_at: number | null;
  completed_by: string | null;
  /** Files, symbols or globs the task will touch (absent when none were named). */
  reserve?: string[];
}

interface ClaimPayload {
  task_id: string;
  claimer_run_id: string;
  claimed_at: number;
  expires_at: number;
  /** An abandoned claim ends at once; heartbeats no longer extend it. */
  abandoned?: boolean;
}

const MAX_PRIORITY = 1_000_000;
/** Symbols one task may name in `reserve`. */
export const MAX_TASK_RESERVE = 100;

/**
 * Tasks with dependencies, and claims on them: at most one live claim per task, taken in
 * one IMMEDIATE transaction so concurrent claimers (threads, processes) get one winner.
 * A task is ready when every task it depends on is complete and nobody holds a live claim.
 * A task's record is rewritten (new content hash) when it gains dependencies or completes.
 */
export class Tasks {
  constructor(
    private readonly store: CoordStore,
    private readonly clock: Clock,
  ) {}

  create(input: { run_id: string; description: string; priority?: number; depends_on?: string[]; reserve?: string[] }): { task_id: string } {
    const runId = requireRun(input.run_id);
    if (typeof input.description !== 'string' || !input.description.trim()) {
      throw new InvalidInputError('description: required', { fields: ['description'] });
    }
    const priority = input.priority ?? 0;
    if (!Number.isInteger(priority) || Math.abs(priority) > MAX_PRIORITY) {
      throw new InvalidInputError(`priority: an integer within ±${MAX_PRIORITY}`, { fields: ['priority'] });
    }
    const dependsOn = idList('depends_on', input.depends_on ?? []);
    const reserve = reserveList(input.reserve);
    return this.store.tx(() => {
      for (const d of dependsOn) this.taskOf(d, 'depends_on');
      const now = this.clock.now();
      const task_id = newId('task', now);
      const payload: TaskPayload = { task_id, run_id: runId, description: input.description, priority, depends_on: dependsOn, completed_at: null, completed_by: null };
      // Only present when named, so tasks without it hash as they always did.
      if (reserve.length) payload.reserve = reserve;
      this.applyTask(makeRecord('task', runId, { ...payload }, now, null));
      return { task_id };
    });
  }

  /** A task record, local or remote; the row keeps its first creation time and completion. */
  applyTask(record: WireRecord): void {
    const p = record.payload as unknown as TaskPayload;
    const prev = this.store.get<TaskRow>('getTask', p.task_id);
    if (prev && prev.record_id !== record.record_id) this.store.deleteRecord(prev.record_id);
    this.store.insertRecord(record);
    this.store.run('upsertTask', {
      ...p,
      record_id: record.record_id,
      depends_on: JSON.stringify(p.depends_on),
      created_at: prev?.created_at ?? record.created_at,
      origin: record.origin,
    });
    for (const d of p.depends_on) this.store.run('insertTaskDep', [p.task_id, d]);
  }

  private taskOf(taskId: unknown, field = 'task_id'): TaskRow {
    const id = requireId(field, taskId);
    const t = this.store.get<TaskRow>('getTask', id);
    if (!t) throw new NotFoundError(`no task ${id}`);
    return t;
  }

  private rewrite(t: TaskRow, patch: Partial<Pick<TaskPayload, 'depends_on' | 'completed_at' | 'completed_by'>>): void {
    const payload: TaskPayload = {
      task_id: t.task_id,
      run_id: t.run_id,
      description: t.description,
      priority: t.priority,
      depends_on: patch.depends_on ?? (JSON.parse(t.depends_on) as string[]),
      completed_at: patch.completed_at ?? t.completed_at,
      completed_by: patch.completed_by ?? t.completed_by,
    };
    const reserve = this.reserveOf(t);
    if (reserve.length) payload.reserve = reserve;
    this.applyTask(makeRecord('task', t.run_id, { ...payload }, t.created_at, null));
  }

  /** Make a task wait for more tasks; cycles and unknown tasks are refused. */
  depend(input: { task_id: string; depends_on: string[] }): { task_id: string; depends_on: string[] } {
    const added = idList('depends_on', input.depends_on, { min: 1 });
    return this.store.tx(() => {
      const t = this.taskOf(input.task_id);
      const deps = new Set<string>(JSON.parse(t.depends_on) as string[]);
      for (const d of added) {
        if (d === t.task_id) throw new InvalidInputError('depends_on: a task cannot depend on itself', { fields: ['depends_on'] });
        this.taskOf(d, 'depends_on');
        if (this.dependsOn(d, t.task_id)) throw new InvalidInputError(`depends_on: ${d} already depends on ${t.task_id} (a cycle)`, { fields: ['depends_on'] });
        deps.add(d);
      }
      const depends_on = [...deps].sort();
      this.rewrite(t, { depends_on });
      return { task_id: t.task_id, depends_on };
    });
  }

  /** Does `from` (transitively) depend on `to`? */
  private dependsOn(from: string, to: string): boolean {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length) {
      const id = stack.pop()!;
      if (id === to) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      const t = this.store.get<TaskRow>('getTask', id);
      if (t) stack.push(...(JSON.parse(t.depends_on) as string[]));
    }
    return false;
  }

  /** Claim atomically. Losing is an answer: the live holder, or why the task cannot be claimed yet. */
  claim(input: { run_id: string; task_id: string; ttl_seconds?: number }): ClaimResult {
    const runId = requireRun(input.run_id);
    const ttl = ttlMs(input.ttl_seconds);
    return this.store.tx((): ClaimResult => {
      const t = this.taskOf(input.task_id);
      const now = this.clock.now();
      if (t.completed_at !== null) return { claimed: false, holder: null, reason: 'completed' };
      const c = this.store.get<ClaimRow>('getClaim', t.task_id);
      if (c && c.effective_expires_at > now && c.claimer_run_id !== runId) {
        return { claimed: false, holder: { run_id: c.claimer_run_id, expires_at: iso(c.effective_expires_at) } };
      }
      const open = this.store.all<{ depends_on: string }>('openDependencies', t.task_id).map((d) => d.depends_on);
      if (open.length) return { claimed: false, holder: null, reason: `waiting on ${open.join(', ')}` };
      const expires = now + ttl;
      const payload: ClaimPayload = { task_id: t.task_id, claimer_run_id: runId, claimed_at: now, expires_at: expires };
      this.applyClaim(makeRecord('claim', runId, { ...payload }, now, expires));
      return { claimed: true, expires_at: iso(expires) };
    });
  }

  /** A claim record, local or remote; false when an earlier live claim keeps the task. */
  applyClaim(record: WireRecord): boolean {
    const p = record.payload as unknown as ClaimPayload;
    const prev = this.store.get<ClaimRow>('getClaim', p.task_id);
    // Across colonies two live claims can meet: the earlier one keeps the task.
    if (prev && prev.claimer_run_id !== p.claimer_run_id && prev.effective_expires_at > p.claimed_at && prev.claimed_at <= p.claimed_at) {
      return false;
    }
    if (prev && prev.record_id !== record.record_id) this.store.deleteRecord(prev.record_id);
    this.store.insertRecord(record);
    this.store.run('upsertClaim', {
      task_id: p.task_id,
      claimer_run_id: p.claimer_run_id,
      claimed_at: p.claimed_at,
      expires_at: p.expires_at,
      record_id: record.record_id,
      ended: p.abandoned ? 1 : 0,
      origin: record.origin,
    });
    return true;
  }

  /** Complete a task; refused while another run holds a live claim on it. */
  complete(input: { run_id: string; task_id: string }): { completed: boolean } {
    const runId = requireRun(input.run_id);
    return this.store.tx(() => {
      const t = this.taskOf(input.task_id);
      if (t.completed_at !== null) return { completed: false };
      const now = this.clock.now();
      const c = this.store.get<ClaimRow>('getClaim', t.task_id);
      if (c && c.effective_expires_at > now && c.claimer_run_id !== runId) {
        throw new ForbiddenError(`task ${t.task_id} is claimed by run ${c.claimer_run_id}`);
      }
      this.rewrite(t, { completed_at: now, completed_by: runId });
      return { completed: true };
    });
  }

  /** Give up the run's live claim so others can take the task. */
  abandon(input: { run_id: string; task_id: string }): { abandoned: boolean } {
    const runId = requireRun(input.run_id);
    return this.store.tx(() => {
      const t = this.taskOf(input.task_id);
      const now = this.clock.now();
      const c = this.store.get<ClaimRow>('getClaim', t.task_id);
      if (!c || c.effective_expires_at <= now) return { abandoned: false };
      if (c.claimer_run_id !== runId) throw new ForbiddenError(`task ${t.task_id} is claimed by run ${c.claimer_run_id}, not ${runId}`);
      // An abandoning claim record ends the claim everywhere the record travels.
      const payload: ClaimPayload = { task_id: t.task_id, claimer_run_id: runId, claimed_at: now, expires_at: now, abandoned: true };
      this.applyClaim(makeRecord('claim', runId, { ...payload }, now, now));
      return { abandoned: true };
    });
  }

  /** What the task's record says it will touch. */
  private reserveOf(t: TaskRow): string[] {
    const row = this.store.get<{ payload: string }>('recordPayload', t.record_id);
    if (!row) return [];
    const r = (JSON.parse(row.payload) as Partial<TaskPayload>).reserve;
    return Array.isArray(r) ? r.filter((s): s is string => typeof s === 'string') : [];
  }

  private detail(t: TaskRow): TaskDetail {
    return {
      task_id: t.task_id,
      run_id: t.run_id,
      description: t.description,
      priority: t.priority,
      depends_on: JSON.parse(t.depends_on) as string[],
      reserve: this.reserveOf(t),
      completed_at: t.completed_at === null ? null : iso(t.completed_at),
    };
  }

  /** One task with its reserve list; undefined when there is no such task. */
  get(taskId: string): TaskDetail | undefined {
    const t = this.store.get<TaskRow>('getTask', requireId('task_id', taskId));
    return t ? this.detail(t) : undefined;
  }

  /** Tasks a run created, oldest first (a planner's output). */
  ofRun(input: { run_id: string; limit?: number }): TaskDetail[] {
    const limit = limitOf(input.limit, 1000, 10_000);
    return this.store.all<TaskRow>('tasksOfRun', requireRun(input.run_id), limit).map((t) => this.detail(t));
  }

  /** Ready tasks by priority (highest first), then age. */
  ready(input: { limit?: number } = {}): { tasks: ReadyTask[] } {
    const limit = limitOf(input.limit, 50, 1000);
    const rows = this.store.all<TaskRow>('readyTasks', { now: this.clock.now(), limit });
    return {
      tasks: rows.map((t) => ({ task_id: t.task_id, description: t.description, priority: t.priority, depends_on: JSON.parse(t.depends_on) as string[] })),
    };
  }

  /** Every task with its state, oldest first. */
  list(input: { limit?: number } = {}): { tasks: TaskListEntry[] } {
    const limit = limitOf(input.limit, 1000, 10_000);
    const rows = this.store.all<TaskRow & { claimed_by: string | null }>('listTasks', { now: this.clock.now(), limit });
    return {
      tasks: rows.map((t) => ({
        task_id: t.task_id,
        description: t.description,
        priority: t.priority,
        depends_on: JSON.parse(t.depends_on) as string[],
        run_id: t.run_id,
        created_at: iso(t.created_at),
        completed_at: t.completed_at === null ? null : iso(t.completed_at),
        completed_by: t.completed_by,
        claimed_by: t.completed_at === null ? t.claimed_by : null,
      })),
    };
  }
}

/** A task's `reserve`: bounded, deduplicated, each a valid file, symbol or glob. */
function reserveList(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_TASK_RESERVE) {
    throw new InvalidInputError(`reserve: an array of at most ${MAX_TASK_RESERVE} files, symbols or globs`, { fields: ['reserve'] });
  }
  try {
    parseSymbols(value);
  } catch (err) {
    throw new InvalidInputError(`reserve: ${(err as Error).message.replace(/^symbols: /, '')}`, { fields: ['reserve'] });
  }
  return [...new Set(value as string[])];
}
