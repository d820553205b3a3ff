import type { Db } from '../lib/sqlite.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { ColonyError, ConflictError, InvalidInputError } from '../lib/errors.js';
import type { CoordService } from '../coord/service.js';
import { git } from '../runner/git.js';
import type { RunnerHooks, SubmitResult } from '../runner/runner.js';
import { FINISHED_STATUSES, type ExecuteRequest, type JobRecord } from '../runner/types.js';
import type { IntegrateConfig, OrchestrateConfig } from './config.js';
import { LandStore } from './store.js';
import { MergeQueue } from './queue.js';
import { ScratchRepo } from './scratch.js';
import { Integrator } from './integrator.js';
import { JobReservations } from './reservations.js';
import { failureAction } from './policy.js';
import type { Entry, EntryStatus, JobLanding, LandEvent } from './types.js';

/** What landing needs of the runner (wired after both exist: each calls the other). */
export interface RunnerPort {
  submit(req: ExecuteRequest): SubmitResult;
  get(id: string): JobRecord;
  kick(): void;
}

export interface LandServiceOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  coord: CoordService;
  /** The base repository. */
  repo: string;
  /** Directory for the integrator's scratch clone (under .colony). */
  scratchDir: string;
  integrate: IntegrateConfig;
  orchestrate: OrchestrateConfig;
}

/**
 * Asked whenever a merge-queue follow-up job could start (`continues`: the job whose entry it
 * follows up): false keeps it queued (later jobs pass it) until whoever owns that work has
 * room and kicks the runner. A domain built on landing (swarms, bound to `agents` jobs at
 * once) provides it; landing knows no more.
 */
export type FollowUpGate = (job: JobRecord, continues: string) => boolean;

/** A job's landing state as its record shows it. */
export interface JobLandingView {
  land: boolean;
  parent_job_id: string | null;
  depth: number;
  attempt: number;
  follow_up_of: string | null;
  task_id: string | null;
  reserve: string[] | null;
  reservation_id: string | null;
  /** While queued behind others' reservations: what it wants and who holds it. */
  waiting_for: JobLanding['waiting'];
  entry: Pick<Entry, 'id' | 'status' | 'position' | 'landed_commit' | 'evidence' | 'follow_up' | 'target'> | null;
}

export interface QueueStatus {
  target: string;
  /** Why the queue is not moving, when it is not. */
  blocked: string | null;
  entries: Entry[];
}

/** How often queued jobs waiting for reservations look again (others may release meanwhile). */
const WAITING_RETRY_MS = 1000;

/**
 * Landing: the merge queue, jobs that hold reservations and task claims until their work
 * lands, and the tree of jobs agents start. Joins the runner through its hooks; callable
 * in-process (HTTP, MCP and the CLI are thin adapters over this).
 */
export class LandService {
  readonly queue: MergeQueue;
  private readonly store: LandStore;
  private readonly scratch: ScratchRepo;
  private readonly reservations: JobReservations;
  private integrator: Integrator | undefined;
  private runner: RunnerPort | undefined;
  private target = '';
  /** Set when no target could be resolved: the queue cannot run. */
  private noTarget: string | null = null;
  private waitTimer: NodeJS.Timeout | undefined;
  /** Set just before the runner admits a follow-up job this service submits. */
  private pendingFollowUp: { follow_up_of: string; attempt: number; parent_job_id: string | null; depth: number } | undefined;
  private followUpGate: FollowUpGate = () => true;
  /** Follow-ups the gate holds now (queued jobs only). */
  private readonly heldFollowUps = new Set<string>();

  constructor(private readonly o: LandServiceOptions) {
    this.store = new LandStore(o.db);
    this.queue = new MergeQueue(this.store, o.clock);
    this.scratch = new ScratchRepo(o.repo, o.scratchDir);
    this.reservations = new JobReservations(this.store, o.coord, o.orchestrate, o.logger);
  }

  hooks(): RunnerHooks {
    return {
      admit: (id, req) => this.admit(id, req),
      gate: (id, passedOver) => this.gate(id, passedOver),
      finished: (job) => this.jobFinished(job),
      evicted: (ids) => this.store.forgetJobs(ids),
    };
  }

  attach(runner: RunnerPort): void {
    this.runner = runner;
  }

  /** Hold follow-up jobs until `gate` lets them start; set before the runner starts, so follow-ups queued at the last shutdown are held too. */
  gateFollowUps(gate: FollowUpGate): void {
    this.followUpGate = gate;
  }

  /** Resolve the target, recover entries caught mid-test, and start the integrator. */
  async start(): Promise<void> {
    const target = this.o.integrate.target ?? (await this.currentBranch());
    if (target) this.target = target;
    else this.noTarget = "the repository's HEAD is detached and integrate.target is not set: set it to the branch the merge queue lands on";
    const recovered = this.queue.recover();
    if (recovered) this.o.logger.warn({ recovered }, 'merge-queue entries under test at the last shutdown re-queued');
    this.reconcile();
    this.integrator = new Integrator({
      queue: this.queue,
      scratch: this.scratch,
      config: this.o.integrate,
      target: this.target,
      logger: this.o.logger,
      onSettled: (e) => this.entrySettled(e),
    });
    this.reservations.start();
    this.waitTimer = setInterval(() => this.runner?.kick(), WAITING_RETRY_MS);
    this.waitTimer.unref();
    if (!this.noTarget) this.integrator.kick();
  }

  async stop(): Promise<void> {
    clearInterval(this.waitTimer);
    this.reservations.stop();
    await this.integrator?.stop();
  }

  /** Resolves once the integrator has nothing to do. */
  async idle(): Promise<void> {
    await this.integrator?.idle();
  }

  status(opts: { status?: EntryStatus; limit?: number } = {}): QueueStatus {
    return { target: this.target, blocked: this.noTarget ?? this.integrator?.blocked ?? null, entries: this.queue.list({ status: opts.status, limit: opts.limit ?? 100 }) };
  }

  entry(id: string): Entry {
    return this.queue.get(id);
  }

  eventsSince(afterId: number): LandEvent[] {
    return this.queue.eventsSince(afterId);
  }

  subscribe(listener: (e: LandEvent) => void): () => void {
    return this.queue.subscribe(listener);
  }

  /**
   * Queue a completed job's branch; a job still queued or running is marked to land when
   * it completes. Returns the entry, or null in the second case.
   */
  land(jobId: string): Entry | null {
    const job = this.requireRunner().get(jobId);
    if (!FINISHED_STATUSES.has(job.status)) {
      this.store.markLand(jobId, this.o.clock.now());
      return null;
    }
    if (job.status !== 'completed') throw new ConflictError(`job ${jobId} ${job.status}; only a completed job's work can land`);
    if (!job.branch || !job.commits?.length) throw new ConflictError(`job ${jobId} made no commits; nothing to land`);
    const entry = this.enqueue(job, this.store.job(jobId)?.attempt ?? 1);
    return entry;
  }

  /**
   * Queue a settled entry again. Its job's reservations are taken again first, so the retried
   * work is protected (and heartbeated) until it settles, as its first attempt was; a retry
   * while another run holds overlapping symbols is refused with a 409 naming them.
   */
  retry(entryId: string): Entry {
    const before = this.queue.retryable(entryId);
    const took = this.reservations.retake(before.job_id);
    let claimed = false;
    let e: Entry;
    try {
      claimed = this.reclaimTask(before.job_id);
      e = this.queue.retry(entryId);
    } catch (err) {
      if (claimed) this.o.coord.taskAbandon({ run_id: before.job_id, task_id: this.store.job(before.job_id)!.task_id! });
      if (took || claimed) this.reservations.release(before.job_id);
      throw err;
    }
    this.integrator?.kick();
    return e;
  }

  /**
   * A retried entry's job claims its task again: settling without landing gave the claim
   * back, and landing completes the task in the job's name. Refused (409) while another run
   * holds the task, whose work the retried entry would otherwise land over. A task completed
   * meanwhile needs no claim. Returns whether a claim was taken.
   */
  private reclaimTask(jobId: string): boolean {
    const taskId = this.store.job(jobId)?.task_id;
    if (!taskId) return false;
    const r = this.o.coord.taskClaim({ run_id: jobId, task_id: taskId, ttl_seconds: this.o.orchestrate.reserve_ttl });
    if (r.claimed) {
      this.reservations.holdClaim(jobId);
      return true;
    }
    if (r.reason === 'completed') return false;
    const why = r.holder ? `claimed by run ${r.holder.run_id} until ${r.holder.expires_at}` : (r.reason ?? 'not claimable');
    throw new ConflictError(`job ${jobId}'s task ${taskId} is ${why}; retry once it is given back, so the job's work does not land over that run's`);
  }

  remove(entryId: string): Entry {
    const before = this.queue.get(entryId);
    const e = this.queue.remove(entryId);
    // Dropped work gives back what it held; a settled entry already did.
    if (before.status === 'queued' || before.status === 'testing') this.letGo(e.job_id, 'abandon');
    return e;
  }

  /** What landing knows about a job, for its record; undefined when nothing. */
  describeJob(jobId: string): JobLandingView | undefined {
    const meta = this.store.job(jobId);
    const latest = this.queue.latestOfJob(jobId);
    if (!meta && !latest) return undefined;
    const entry = latest ? (latest.status === 'queued' ? this.queue.get(latest.id) : latest) : null;
    return {
      land: meta?.land ?? this.o.integrate.auto,
      parent_job_id: meta?.parent_job_id ?? null,
      depth: meta?.depth ?? 1,
      attempt: meta?.attempt ?? 1,
      follow_up_of: meta?.follow_up_of ?? null,
      task_id: meta?.task_id ?? null,
      reserve: meta?.reserve ?? null,
      reservation_id: meta?.held ? meta.reservation_id : null,
      waiting_for: meta?.waiting ?? null,
      entry: entry
        ? { id: entry.id, status: entry.status, position: entry.position, target: entry.target, landed_commit: entry.landed_commit, evidence: entry.evidence, follow_up: entry.follow_up }
        : null,
    };
  }

  /** Jobs started by `jobId`, oldest first. */
  children(jobId: string, limit = 1000): string[] {
    return this.store.children(jobId, limit);
  }

  // ---- runner hooks

  private admit(id: string, req: ExecuteRequest): void {
    const followUp = this.pendingFollowUp;
    this.pendingFollowUp = undefined;
    const { orchestrate, integrate } = this.o;
    if (req.reserve?.length) this.reservations.validate(req.reserve);
    let depth = 1;
    let parent: string | null = req.parent_job_id ?? null;
    if (followUp) {
      parent = followUp.parent_job_id;
      depth = followUp.depth;
    } else if (parent) {
      try {
        this.requireRunner().get(parent);
      } catch {
        throw new InvalidInputError(`parent job ${parent} does not exist`, { fields: ['parent_job_id'] });
      }
      depth = (this.store.job(parent)?.depth ?? 1) + 1;
      if (depth > orchestrate.max_depth) {
        throw new ColonyError('job_limit', `job ${parent} is at depth ${depth - 1}; jobs may start jobs at most ${orchestrate.max_depth} deep (orchestrate.max_depth)`, 403);
      }
      const children = this.store.childCount(parent);
      if (children >= orchestrate.max_children) {
        throw new ColonyError('job_limit', `job ${parent} has already started ${children} jobs, the limit (orchestrate.max_children)`, 403);
      }
    }
    const land = req.land ?? false;
    // Work that will land starts from the target's tip, not from whatever the base has checked out.
    if ((land || integrate.auto) && !req.base_ref && this.target) req.base_ref = this.target;
    if (req.task_id) {
      const r = this.o.coord.taskClaim({ run_id: id, task_id: req.task_id, ttl_seconds: orchestrate.reserve_ttl });
      if (!r.claimed) {
        const why = r.holder ? `already claimed by run ${r.holder.run_id} until ${r.holder.expires_at}` : (r.reason ?? 'not claimable');
        throw new ConflictError(`task ${req.task_id} is ${why}`);
      }
    }
    if (!land && !req.reserve?.length && !req.task_id && !parent && !followUp) return;
    this.store.insertJob(
      {
        job_id: id,
        land,
        reserve: req.reserve?.length ? req.reserve : null,
        task_id: req.task_id ?? null,
        parent_job_id: parent,
        depth,
        attempt: followUp?.attempt ?? 1,
        follow_up_of: followUp?.follow_up_of ?? null,
      },
      this.o.clock.now(),
    );
    if (req.task_id) this.reservations.holdClaim(id);
  }

  private gate(id: string, passedOver: readonly string[]): boolean {
    // The follow-up gate first: reservations are taken only by a job that starts.
    if (!this.followUpMayStart(id)) {
      this.heldFollowUps.add(id);
      return false;
    }
    this.heldFollowUps.delete(id);
    // A held follow-up waits for its owner, not for symbols: newcomers wanting its symbols need not wait behind it.
    const waiting = this.heldFollowUps.size ? passedOver.filter((w) => !this.heldFollowUps.has(w)) : passedOver;
    return this.reservations.gate(id, waiting);
  }

  /** True for any job but a follow-up the follow-up gate holds. */
  private followUpMayStart(id: string): boolean {
    const of = this.store.job(id)?.follow_up_of;
    const continues = of ? this.store.entry(of)?.job_id : undefined;
    if (!continues) return true;
    const job = this.jobIfKept(id);
    return !job || this.followUpGate(job, continues);
  }

  private jobFinished(job: JobRecord): void {
    this.heldFollowUps.delete(job.id);
    const meta = this.store.job(job.id);
    const wantsLand = meta?.land || this.o.integrate.auto;
    if (job.status === 'completed' && wantsLand && job.branch && job.commits?.length) {
      try {
        this.enqueue(job, meta?.attempt ?? 1);
        return;
      } catch (err) {
        this.o.logger.warn({ job_id: job.id, err: (err as Error).message }, 'could not queue the job for landing');
      }
    }
    if (!meta) return;
    // Nothing will land: a completed job without landing has done its task; anything else gives it back.
    this.letGo(job.id, job.status === 'completed' && !wantsLand ? 'complete' : 'abandon');
  }

  // ---- landing

  private enqueue(job: JobRecord, attempt: number): Entry {
    if (this.noTarget) throw new ColonyError('no_target', this.noTarget, 409);
    const head = job.commits!.at(-1)!;
    const entry = this.queue.enqueue({ job_id: job.id, branch: job.branch!, head, target: this.target, attempt });
    this.integrator?.kick();
    return entry;
  }

  private entrySettled(e: Entry): void {
    const job = this.jobIfKept(e.job_id);
    if (e.status === 'landed' || !job) {
      this.letGo(e.job_id, e.status === 'landed' ? 'complete' : 'abandon');
      // job_ttl evicted the job while its entry waited: forget the entry now that it settled.
      if (!job) this.store.forgetJobs([e.job_id]);
      return;
    }
    const meta = this.store.job(e.job_id);
    const action = failureAction(this.o.integrate, e, job.prompt);
    this.letGo(e.job_id, 'abandon');
    try {
      if (action.kind === 'task') {
        const { task_id } = this.o.coord.taskCreate({ run_id: e.job_id, description: action.description });
        this.queue.note(e, { follow_up: { task_id } }, { follow_up: { task_id } });
      } else if (action.kind === 'job') {
        this.pendingFollowUp = { follow_up_of: e.id, attempt: action.attempt, parent_job_id: meta?.parent_job_id ?? null, depth: meta?.depth ?? 1 };
        const r = this.requireRunner().submit({
          prompt: action.prompt,
          agent: job.agent,
          ...(job.model ? { model: job.model } : {}),
          timeout_s: job.timeout_s,
          base_ref: this.target,
          land: true,
          ...(meta?.reserve ? { reserve: meta.reserve } : {}),
          ...(meta?.task_id ? { task_id: meta.task_id } : {}),
          metadata: { ...(job.metadata ?? {}), follow_up_of: e.id },
          source: 'land',
        });
        this.queue.note(e, { follow_up: { job_id: r.job_id } }, { follow_up: { job_id: r.job_id } });
      }
    } catch (err) {
      this.pendingFollowUp = undefined;
      this.o.logger.warn({ entry_id: e.id, err: (err as Error).message }, 'landing policy could not start its follow-up');
      this.queue.note(e, { error: `follow-up not started: ${(err as Error).message}` }, { error: `follow-up not started: ${(err as Error).message}` });
    }
  }

  /** Release the job's reservations and complete or abandon its task claim. */
  private letGo(jobId: string, task: 'complete' | 'abandon'): void {
    const meta = this.store.job(jobId);
    if (!meta) return;
    if (meta.held || meta.reservation_id) this.reservations.release(jobId);
    if (meta.task_id) {
      try {
        if (task === 'complete') this.o.coord.taskComplete({ run_id: jobId, task_id: meta.task_id });
        else this.o.coord.taskAbandon({ run_id: jobId, task_id: meta.task_id });
      } catch (err) {
        this.o.logger.warn({ job_id: jobId, task_id: meta.task_id, err: (err as Error).message }, `could not ${task} the job's task`);
      }
    }
    this.runner?.kick();
  }

  /**
   * Jobs interrupted by a crash never reported their end: give back what they held unless
   * their branch still waits in the queue.
   */
  private reconcile(): void {
    for (const meta of this.store.heldJobs()) {
      let job: JobRecord | undefined;
      try {
        job = this.runner?.get(meta.job_id);
      } catch {
        job = undefined;
      }
      if (job && !FINISHED_STATUSES.has(job.status)) continue;
      const entry = this.queue.latestOfJob(meta.job_id);
      if (entry && (entry.status === 'queued' || entry.status === 'testing')) continue;
      this.letGo(meta.job_id, 'abandon');
    }
  }

  /** The job's record, or undefined when job_ttl has evicted it. */
  private jobIfKept(jobId: string): JobRecord | undefined {
    try {
      return this.requireRunner().get(jobId);
    } catch {
      return undefined;
    }
  }

  private requireRunner(): RunnerPort {
    if (!this.runner) throw new ColonyError('not_ready', 'landing is not attached to a runner', 503);
    return this.runner;
  }

  /** The branch checked out in the base, or '' when HEAD is detached. */
  private async currentBranch(): Promise<string> {
    const r = await git(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd: this.o.repo, okCodes: [1, 128] });
    return r.stdout.trim();
  }
}
