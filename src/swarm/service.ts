import { EventEmitter } from 'node:events';
import type { Db } from '../lib/sqlite.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { newId } from '../lib/ids.js';
import { ColonyError, InvalidInputError, NotFoundError, QueueFullError } from '../lib/errors.js';
import type { CoordService } from '../coord/service.js';
import { parseSymbols } from '../coord/symbols.js';
import type { JobLandingView } from '../land/index.js';
import type { LandEvent } from '../land/types.js';
import { describeEvidence } from '../land/policy.js';
import type { SubmitResult } from '../runner/runner.js';
import { FINISHED_STATUSES, type ExecuteRequest, type JobEvent, type JobRecord } from '../runner/types.js';
import { SwarmStore, type NewSwarmTask, type SwarmRun, type TaskPatch } from './store.js';
import { DEFAULT_AGENTS, DEFAULT_MAX_ATTEMPTS, MAX_SWARM_TASKS, orderSpecs } from './specs.js';
import { plannerPrompt, workerPrompt } from './prompts.js';
import { settleDependencies } from './dependencies.js';
import { swarmView } from './view.js';
import { SETTLED_TASK_STATES, TERMINAL_SWARM_STATUSES, type SwarmRequest, type SwarmTask, type SwarmView } from './types.js';

/** What a swarm needs of the runner. */
export interface SwarmRunnerPort {
  submit(req: ExecuteRequest): SubmitResult;
  get(id: string): JobRecord;
  cancel(id: string): JobRecord;
  /** Look at the queue again: a held follow-up may start now. */
  kick(): void;
  agentNames(): string[];
  subscribeAll(listener: (e: JobEvent) => void): () => void;
}

/** What a swarm needs of landing. */
export interface SwarmLandPort {
  describeJob(jobId: string): JobLandingView | undefined;
  subscribe(listener: (e: LandEvent) => void): () => void;
  remove(entryId: string): unknown;
}

export interface SwarmServiceOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  coord: CoordService;
  runner: SwarmRunnerPort;
  land: SwarmLandPort;
  /** The agent a swarm uses when it names none. */
  defaultAgent: string;
}

/** How often unfinished swarms look again for what no event announces (a full queue freeing, a task outside the swarm completing). */
const RETRY_MS = 1000;

/**
 * Swarm runs: a goal (through a planner job), a task list or the repository's open tasks,
 * worked through by at most `agents` jobs at a time, each landing through the merge queue.
 * Durable: every decision is a row, and `reconcile` rebuilds what to do next from the rows,
 * the job records and the merge queue, so a restart resumes where the last daemon stopped.
 */
export class SwarmService {
  private readonly store: SwarmStore;
  private readonly events = new EventEmitter();
  /** Job id → swarm id, for every job of an unfinished swarm. */
  private readonly jobs = new Map<string, string>();
  /** Swarms with a reconcile scheduled. */
  private readonly pending = new Set<string>();
  /** The last view each swarm announced (without wall time), so only changes are sent. */
  private readonly announced = new Map<string, string>();
  private unsubscribe: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(private readonly o: SwarmServiceOptions) {
    this.store = new SwarmStore(o.db);
    this.events.setMaxListeners(0);
  }

  /** Follow job and merge-queue events, and resume every unfinished swarm. Call after the runner and landing started. */
  start(): void {
    this.stopped = false;
    this.unsubscribe = [
      this.o.runner.subscribeAll((e) => {
        if (e.type === 'status' && FINISHED_STATUSES.has(e.data.status as JobRecord['status'])) this.jobChanged(e.job_id);
      }),
      this.o.land.subscribe((e) => this.jobChanged(e.job_id)),
    ];
    for (const run of this.store.openRuns()) {
      this.index(run);
      this.schedule(run.id);
    }
    this.timer = setInterval(() => {
      for (const run of this.store.openRuns()) this.schedule(run.id);
    }, RETRY_MS);
    this.timer.unref();
  }

  /** Stop acting before the runner shuts down: jobs it cancels then count at the next start. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
  }

  /** Every change of any swarm, as its whole view. */
  subscribe(listener: (v: SwarmView) => void): () => void {
    this.events.on('swarm', listener);
    return () => this.events.off('swarm', listener);
  }

  /** Unfinished swarms, oldest first (what a new follower of every swarm is sent first). */
  unfinished(): SwarmView[] {
    return this.store.openRuns().map((r) => this.view(r));
  }

  get(id: string): SwarmView {
    return this.view(this.requireRun(id));
  }

  /** Newest first; `cursor` is the `next_cursor` of the previous page (opaque to callers). */
  list(opts: { limit?: number; cursor?: string } = {}): { swarms: SwarmView[]; next_cursor: string | null } {
    let before: number | undefined;
    if (opts.cursor !== undefined) {
      before = Number(opts.cursor);
      if (!/^\d{1,15}$/.test(opts.cursor) || !Number.isSafeInteger(before)) throw new InvalidInputError('cursor: not a valid cursor', { fields: ['cursor'] });
    }
    const page = this.store.runs(opts.limit ?? 50, before);
    return { swarms: page.runs.map((r) => this.view(r)), next_cursor: page.next === null ? null : String(page.next) };
  }

  /** Start a swarm (validated input, see specs.ts). Its work starts on the next turn of the event loop. */
  create(req: SwarmRequest): SwarmView {
    if (this.stopped) throw new ColonyError('shutting_down', 'swarms are not running: the daemon is starting or shutting down', 503);
    const agent = req.agent ?? this.o.defaultAgent;
    // Refused now, not once per task when its job is submitted.
    if (!this.o.runner.agentNames().includes(agent)) {
      throw new InvalidInputError(`agent: unknown agent '${agent}'; configured agents: ${this.o.runner.agentNames().join(', ')}`, { fields: ['agent'] });
    }
    const now = this.o.clock.now();
    const id = newId('swarm', now);
    const base = {
      id,
      goal: req.plan ?? null,
      agents: req.agents ?? DEFAULT_AGENTS,
      agent,
      model: req.model ?? null,
      permissions: req.permissions ?? null,
      timeout_s: req.timeout_s ?? null,
      max_attempts: req.max_attempts ?? DEFAULT_MAX_ATTEMPTS,
      created_at: now,
    };
    if (req.plan !== undefined) {
      const job = this.o.runner.submit({
        ...this.jobSettings(base),
        prompt: plannerPrompt(req.plan, id, base.agents),
        metadata: { swarm_id: id, role: 'planner' },
        source: 'swarm',
      });
      this.store.insertRun({ ...base, status: 'planning', source: 'plan', planner_job_id: job.job_id, planner_job_ids: [job.job_id], started_at: now });
      this.jobs.set(job.job_id, id);
    } else {
      const tasks = req.tasks ? this.createTasks(id, req.tasks) : this.openTasks();
      this.store.tx(() => {
        this.store.insertRun({ ...base, status: 'running', source: req.tasks ? 'tasks' : 'open', planner_job_id: null, planner_job_ids: [], started_at: now });
        this.store.insertTasks(id, tasks);
      });
    }
    this.schedule(id);
    return this.get(id);
  }

  /** Start no more work, cancel the swarm's queued and running jobs, and mark what did not land cancelled. Idempotent. */
  cancel(id: string): SwarmView {
    const run = this.requireRun(id);
    if (TERMINAL_SWARM_STATUSES.has(run.status)) return this.view(run);
    // Terminal first: the cancellations below must not look like failures to retry.
    this.store.updateRun(id, { status: 'cancelled', finished_at: this.o.clock.now() });
    if (run.status === 'planning' && run.planner_job_id) this.cancelJob(run.planner_job_id);
    for (const t of this.store.tasks(id)) {
      if (SETTLED_TASK_STATES.has(t.state)) continue;
      if (t.state === 'running' && t.job_id) this.cancelJob(t.job_id);
      if (t.state === 'landing' && t.job_id) {
        const entry = this.o.land.describeJob(t.job_id)?.entry;
        if (entry?.status === 'queued') this.tryTo(() => this.o.land.remove(entry.id), `remove ${entry.id} from the merge queue`);
      }
      this.store.updateTask(id, t.task_id, { state: 'cancelled', worker: null, reason: 'the swarm was cancelled' });
    }
    this.forget(id);
    this.announce(id);
    return this.get(id);
  }

  /**
   * May this merge-queue follow-up job start (`continues`: the job whose entry it follows
   * up)? Landing asks (see FollowUpGate) whenever it could. A follow-up of the current job of
   * an unfinished swarm's task is the swarm's to take on (follow), and it starts only once it
   * is the task's job with a worker slot; until then it waits queued, so the swarm never runs
   * more than `agents` jobs. Read from the rows, so it holds before `start` too (after a
   * restart the runner re-queues jobs first). Any other follow-up starts as it would without swarms.
   */
  followUpMayStart(job: Pick<JobRecord, 'id' | 'metadata'>, continues: string): boolean {
    const swarmId = job.metadata?.swarm_id;
    const taskId = job.metadata?.task_id;
    if (typeof swarmId !== 'string' || typeof taskId !== 'string') return true;
    const run = this.store.run(swarmId);
    const task = run && !TERMINAL_SWARM_STATUSES.has(run.status) ? this.store.task(swarmId, taskId) : undefined;
    if (!task) return true;
    // Landing queued it before the swarm's next reconcile takes it on (follow).
    if (task.job_id === continues) return false;
    return task.job_id !== job.id || (task.state === 'running' && task.worker !== null);
  }

  // ---- creation

  private jobSettings(run: Pick<SwarmRun, 'agent' | 'model' | 'permissions' | 'timeout_s'>): Omit<ExecuteRequest, 'prompt'> {
    return {
      agent: run.agent,
      ...(run.model ? { model: run.model } : {}),
      ...(run.permissions ? { permissions: run.permissions } : {}),
      ...(run.timeout_s ? { timeout_s: run.timeout_s } : {}),
    };
  }

  /** The specs as coord tasks owned by the swarm's run, dependencies mapped to task ids. */
  private createTasks(swarmId: string, specs: NonNullable<SwarmRequest['tasks']>): NewSwarmTask[] {
    const ordered = orderSpecs(specs);
    specs.forEach((s, i) => {
      try {
        if (s.reserve?.length) parseSymbols(s.reserve);
      } catch (err) {
        throw new InvalidInputError(`tasks.${i}.reserve: ${(err as Error).message.replace(/^symbols: /, '')}`, { fields: [`tasks.${i}.reserve`] });
      }
    });
    const idOf = new Map<string, string>();
    return ordered.map((s) => {
      const depends_on = [...new Set((s.depends_on ?? []).map((k) => idOf.get(k)!))];
      const { task_id } = this.o.coord.taskCreate({
        run_id: swarmId,
        description: s.description,
        priority: s.priority ?? 0,
        depends_on,
        ...(s.reserve?.length ? { reserve: s.reserve } : {}),
      });
      if (s.id !== undefined) idOf.set(s.id, task_id);
      return { task_id, key: s.id ?? null, description: s.description, depends_on, reserve: [...new Set(s.reserve ?? [])], priority: s.priority ?? 0 };
    });
  }

  /**
   * The repository's open tasks: not completed, not claimed, not another unfinished swarm's
   * (at most MAX_SWARM_TASKS, oldest first).
   */
  private openTasks(): NewSwarmTask[] {
    const taken = this.store.tasksOfOpenRuns();
    const open = this.o.coord
      .taskList({ limit: 10_000 })
      .tasks.filter((t) => t.completed_at === null && t.claimed_by === null && !taken.has(t.task_id))
      .slice(0, MAX_SWARM_TASKS);
    if (!open.length) throw new InvalidInputError('tasks: the repository has no open tasks; give plan (a goal) or tasks', { fields: ['tasks'] });
    return open.map((t) => ({
      task_id: t.task_id,
      key: null,
      description: t.description,
      depends_on: t.depends_on,
      reserve: this.o.coord.taskGet(t.task_id)?.reserve ?? [],
      priority: t.priority,
    }));
  }

  // ---- following jobs

  private index(run: SwarmRun): void {
    if (run.planner_job_id) this.jobs.set(run.planner_job_id, run.id);
    for (const t of this.store.tasks(run.id)) for (const j of t.job_ids) this.jobs.set(j, run.id);
  }

  private forget(swarmId: string): void {
    for (const [job, s] of this.jobs) if (s === swarmId) this.jobs.delete(job);
  }

  private jobChanged(jobId: string): void {
    const swarm = this.jobs.get(jobId);
    if (swarm) this.schedule(swarm);
  }

  /**
   * Reconcile on the next turn: the runner reports a final status before landing has queued
   * the branch, and landing starts a follow-up job right after the entry settles.
   */
  private schedule(swarmId: string): void {
    if (this.stopped || this.pending.has(swarmId)) return;
    this.pending.add(swarmId);
    setImmediate(() => {
      this.pending.delete(swarmId);
      if (this.stopped) return;
      try {
        this.reconcile(swarmId);
      } catch (err) {
        this.o.logger.error({ swarm_id: swarmId, err: (err as Error).message }, 'swarm could not move on');
      }
      this.announce(swarmId);
    });
  }

  /** Bring a swarm's rows up to date with its jobs and the merge queue, then start what may start. */
  private reconcile(swarmId: string): void {
    let run = this.store.run(swarmId);
    if (!run || TERMINAL_SWARM_STATUSES.has(run.status)) return;
    if (run.status === 'planning') {
      if (!this.planned(run)) return;
      run = this.store.run(swarmId)!;
      if (run.status !== 'running') return;
    }
    const tasks = this.store.tasks(swarmId);
    // A follow-up landing queued waits for a worker slot (followUpMayStart): once a task gets one, the runner looks again.
    let slotGiven = false;
    const update = (t: SwarmTask, patch: TaskPatch): void => {
      Object.assign(t, patch);
      this.store.updateTask(swarmId, t.task_id, patch);
      if (patch.worker) slotGiven = true;
    };
    let failed = 0;
    const failAttempt = (t: SwarmTask, reason: string): void => {
      failed++;
      update(t, t.attempts >= run.max_attempts ? { state: 'stuck', worker: null, reason } : { state: 'ready', worker: null, reason });
    };

    for (const t of tasks) if (t.state === 'running' || t.state === 'landing') this.follow(run, t, tasks, update, failAttempt, () => failed++);
    // Not the swarm's to run: a dependency outside it is satisfied only once whoever owns it completes it.
    const outsideOpen = (taskId: string): boolean => this.o.coord.taskGet(taskId)?.completed_at === null;
    for (const { task, patch } of settleDependencies(tasks, outsideOpen)) update(task, patch);
    this.dispatch(run, tasks, update, failAttempt);
    if (failed) this.store.updateRun(swarmId, { failed_attempts: run.failed_attempts + failed });
    if (slotGiven) this.o.runner.kick();

    if (tasks.every((t) => t.state === 'landed')) this.finish(swarmId, 'completed', null);
    else if (tasks.every((t) => t.state === 'landed' || t.state === 'stuck')) {
      const stuck = tasks.filter((t) => t.state === 'stuck').length;
      this.finish(swarmId, 'failed', `${stuck} of ${tasks.length} tasks stuck`);
    }
  }

  /** The planner has finished: take the tasks it created, or fail. False while it still runs. */
  private planned(run: SwarmRun): boolean {
    const job = this.jobOf(run.planner_job_id!);
    if (job && !FINISHED_STATUSES.has(job.status)) return false;
    if (!job || job.status !== 'completed') {
      const why = `the planner job ${run.planner_job_id} ${job ? job.status : 'is gone'}${job?.error ? `: ${job.error}` : ''}`;
      // While planning, failed attempts are the planner's: it gets max_attempts like a task.
      const failed = run.failed_attempts + 1;
      if (failed < run.max_attempts && this.replan(run, failed, why)) return false;
      this.store.updateRun(run.id, { failed_attempts: failed });
      this.finish(run.id, 'failed', why);
      return true;
    }
    // The planner names the swarm as its run; one that used its own job id is taken too.
    const created = [...this.o.coord.tasksOfRun({ run_id: run.id }), ...this.o.coord.tasksOfRun({ run_id: run.planner_job_id! })]
      .filter((t) => t.completed_at === null)
      .slice(0, MAX_SWARM_TASKS);
    if (!created.length) {
      this.finish(run.id, 'failed', `the planner job ${run.planner_job_id} completed without creating any task`);
      return true;
    }
    // Shown dependencies first (tasks created in the same millisecond have no order of their own).
    const ids = new Set(created.map((t) => t.task_id));
    const byId = new Map(created.map((t) => [t.task_id, t]));
    const ordered = orderSpecs(created.map((t) => ({ id: t.task_id, description: t.description, depends_on: t.depends_on.filter((d) => ids.has(d)) }))).map((s) => byId.get(s.id!)!);
    this.store.tx(() => {
      this.store.insertTasks(
        run.id,
        ordered.map((t) => ({ task_id: t.task_id, key: null, description: t.description, depends_on: t.depends_on, reserve: t.reserve, priority: t.priority })),
      );
      this.store.updateRun(run.id, { status: 'running', error: null });
    });
    return true;
  }

  /** A new planner job after a failed one (an interrupted daemon, say); false when it cannot start. */
  private replan(run: SwarmRun, failed: number, why: string): boolean {
    try {
      const job = this.o.runner.submit({
        ...this.jobSettings(run),
        prompt: plannerPrompt(run.goal!, run.id, run.agents),
        metadata: { swarm_id: run.id, role: 'planner', attempt: failed + 1 },
        source: 'swarm',
      });
      this.jobs.set(job.job_id, run.id);
      this.store.updateRun(run.id, { planner_job_id: job.job_id, planner_job_ids: [...run.planner_job_ids, job.job_id], failed_attempts: failed, error: why });
      return true;
    } catch (err) {
      this.o.logger.warn({ swarm_id: run.id, err: (err as Error).message }, 'could not start the planner again');
      return false;
    }
  }

  /**
   * Where the task's current job is: still running, its branch in the merge queue, landed,
   * or failed (a new attempt unless the budget is spent). A follow-up job landing queues
   * for a conflicted or red entry continues the task and counts as an attempt; it takes a
   * free worker slot now, or waits queued for one (see dispatch).
   */
  private follow(
    run: SwarmRun,
    t: SwarmTask,
    tasks: readonly SwarmTask[],
    update: (t: SwarmTask, p: TaskPatch) => void,
    failAttempt: (t: SwarmTask, reason: string) => void,
    countFailure: () => void,
  ): void {
    for (;;) {
      const job = t.job_id ? this.jobOf(t.job_id) : undefined;
      if (!job) return failAttempt(t, `job ${t.job_id} is gone`);
      if (!FINISHED_STATUSES.has(job.status)) {
        if (t.state !== 'running') update(t, { state: 'running' });
        return;
      }
      if (job.status !== 'completed') return failAttempt(t, `job ${job.id} ${job.status}${job.error ? `: ${job.error}` : ''}`);
      const entry = this.o.land.describeJob(job.id)?.entry;
      if (!entry) {
        return failAttempt(t, job.commits?.length ? `job ${job.id}'s branch could not enter the merge queue` : `job ${job.id} completed without committing anything`);
      }
      if (entry.status === 'queued' || entry.status === 'testing') {
        if (t.state !== 'landing') update(t, { state: 'landing', worker: null });
        return;
      }
      if (entry.status === 'landed') return update(t, { state: 'landed', worker: null, reason: null });
      const why = entry.evidence ? describeEvidence(entry.evidence).split('\n')[0]! : `its merge-queue entry was ${entry.status}`;
      const next = entry.follow_up?.job_id;
      if (!next || t.job_ids.includes(next)) return failAttempt(t, `job ${job.id}: ${why}`);
      countFailure();
      this.jobs.set(next, run.id);
      update(t, { state: 'running', job_id: next, job_ids: [...t.job_ids, next], attempts: t.attempts + 1, worker: t.worker ?? this.freeWorker(run, tasks), reason: `follow-up after: ${why}` });
    }
  }

  /**
   * Start jobs for ready tasks, highest priority first, while fewer than `agents` run.
   * Landing queues a follow-up job itself, even while every slot is busy; such a job is held
   * queued without a worker (followUpMayStart) until a slot frees, takes that slot before
   * any new task, and counts against `agents` all along, so at most `agents` jobs run.
   */
  private dispatch(run: SwarmRun, tasks: SwarmTask[], update: (t: SwarmTask, p: TaskPatch) => void, failAttempt: (t: SwarmTask, reason: string) => void): void {
    for (const t of tasks) {
      if (t.state !== 'running' || t.worker !== null) continue;
      const worker = this.freeWorker(run, tasks);
      if (worker === null) break;
      update(t, { worker });
    }
    const ready = tasks.filter((t) => t.state === 'ready').sort((a, b) => b.priority - a.priority);
    let running = tasks.filter((t) => t.state === 'running').length;
    for (const t of ready) {
      if (running >= run.agents) return;
      const worker = this.freeWorker(run, tasks);
      if (worker === null) return;
      let r: SubmitResult;
      try {
        r = this.o.runner.submit({
          ...this.jobSettings(run),
          prompt: workerPrompt(t, t.attempts ? t.reason : null),
          ...(t.reserve.length ? { reserve: t.reserve } : {}),
          task_id: t.task_id,
          land: true,
          metadata: { swarm_id: run.id, task_id: t.task_id, attempt: t.attempts + 1 },
          source: 'swarm',
        });
      } catch (err) {
        // A full queue or a daemon going down is no fault of the task: try again later.
        if (err instanceof QueueFullError || (err as ColonyError).code === 'shutting_down') return;
        update(t, { attempts: t.attempts + 1 });
        failAttempt(t, `its job was refused: ${(err as Error).message}`);
        continue;
      }
      this.jobs.set(r.job_id, run.id);
      running++;
      update(t, { state: 'running', attempts: t.attempts + 1, job_id: r.job_id, job_ids: [...t.job_ids, r.job_id], worker, reason: null });
    }
  }

  /** The lowest worker slot (1..agents) no running task holds, or null when all are busy. */
  private freeWorker(run: SwarmRun, tasks: readonly SwarmTask[]): number | null {
    const busy = new Set(tasks.filter((t) => t.state === 'running' && t.worker !== null).map((t) => t.worker));
    for (let w = 1; w <= run.agents; w++) if (!busy.has(w)) return w;
    return null;
  }

  private finish(swarmId: string, status: 'completed' | 'failed', error: string | null): void {
    this.store.updateRun(swarmId, { status, error, finished_at: this.o.clock.now() });
    this.forget(swarmId);
  }

  // ---- views and events

  private announce(swarmId: string): void {
    const run = this.store.run(swarmId);
    if (!run) return;
    const view = this.view(run);
    const key = JSON.stringify({ ...view, summary: { ...view.summary, wall_ms: 0 } });
    if (this.announced.get(swarmId) === key) return;
    if (TERMINAL_SWARM_STATUSES.has(view.status)) this.announced.delete(swarmId);
    else this.announced.set(swarmId, key);
    this.events.emit('swarm', view);
  }

  private view(run: SwarmRun): SwarmView {
    return swarmView(run, this.store.tasks(run.id), (id) => this.jobOf(id)?.usage, this.o.clock.now());
  }

  // ---- small helpers

  private requireRun(id: string): SwarmRun {
    const run = this.store.run(id);
    if (!run) throw new NotFoundError(`no swarm ${id}`);
    return run;
  }

  /** The job's record, or undefined when job_ttl evicted it. */
  private jobOf(id: string): JobRecord | undefined {
    try {
      return this.o.runner.get(id);
    } catch {
      return undefined;
    }
  }

  private cancelJob(id: string): void {
    const job = this.jobOf(id);
    if (job && !FINISHED_STATUSES.has(job.status)) this.tryTo(() => this.o.runner.cancel(id), `cancel job ${id}`);
  }

  private tryTo(fn: () => unknown, what: string): void {
    try {
      fn();
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, `swarm could not ${what}`);
    }
  }
}
