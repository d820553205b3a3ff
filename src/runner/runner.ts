import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Db } from '../lib/sqlite.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { newId } from '../lib/ids.js';
import { ColonyError, ConflictError, InvalidInputError, NotFoundError, PayloadTooLargeError } from '../lib/errors.js';
import type { ColonyConfig } from '../daemon/config.js';
import type { ColonyPaths } from '../daemon/paths.js';
import { JobStore, type ListedJob } from './job-store.js';
import { Scheduler } from './scheduler.js';
import { WorkspaceManager } from './workspace.js';
import { adapterFor } from './agents/index.js';
import type { McpServerSpec } from './agents/types.js';
import { permitsLevel, type PermissionLevel } from './agents/permissions.js';
import { placeAgentFiles } from './agent-files.js';
import { killLeftoverGroup, runProcess } from './process.js';
import type { Workspace } from './workspace-types.js';
import {
  FINISHED_STATUSES,
  type AgentEvent,
  type ExecuteRequest,
  type JobEvent,
  type JobEventType,
  type JobRecord,
  type JobStatus,
  type Usage,
} from './types.js';

/** Hooks the daemon gives the runner to prepare a workspace beyond git (MCP config, pre-commit hook). */
export interface WorkspaceExtras {
  /** Colony's MCP server, offered to every job's agent in its CLI's own configuration. */
  mcpServer?: () => McpServerSpec | undefined;
  /** Called once the workspace exists, before the agent starts. */
  onWorkspace?: (ws: Workspace) => Promise<void>;
  /**
   * The reservation check of the pre-commit hook, for the runner's own commit of the
   * agent's leftovers: returns why these paths may not be committed by this run, or nothing.
   */
  checkCommit?: (paths: string[], runId: string) => Promise<string | undefined> | string | undefined;
}

/**
 * Where another domain (landing) joins the runner's life cycle. `admit` may refuse a job
 * (throw) before anything is stored; `gate` holds a queued job back without blocking
 * later ones; `finished` hears every final status.
 */
/**
 * Where another domain (landing) joins the runner's life cycle. `admit` may refuse a job
 * (throw) before anything is stored; `gate` holds a queued job back without blocking
 * later ones; `finished` hears every final status; `evicted` hears which finished jobs
 * job_ttl removed, so the domain can drop what it kept about them.
 */
export interface RunnerHooks {
  admit?(jobId: string, req: ExecuteRequest): void;
  gate?(jobId: string, passedOver: readonly string[]): boolean;
  finished?(job: JobRecord): void;
  evicted?(jobIds: string[]): void;
}

export interface RunnerOptions {
  db: Db;
  config: ColonyConfig;
  clock: Clock;
  logger: Logger;
  paths: ColonyPaths;
  extras?: WorkspaceExtras;
  /** Workspace provider; defaults to git clones of the repository (benches swap in a no-op). */
  workspaces?: WorkspaceProvider;
  hooks?: RunnerHooks;
}

export type WorkspaceProvider = Pick<WorkspaceManager, 'prepare' | 'finish' | 'remove'>;

export interface RunnerStats {
  active: number;
  queued: number;
  capacity: number;
  maxQueueDepth: number;
}

export interface SubmitResult {
  job_id: string;
  status: JobStatus;
  position: number;
}

/** The event channel carrying every job's events (job ids are strings, so never this). */
const ALL_JOBS = Symbol('all jobs');

/** Lines of stderr kept to explain a failed run. */
const STDERR_TAIL = 20;

/**
 * Runs agent jobs: one FIFO queue behind `max_concurrency` slots, each job in its own
 * workspace, every transition a durable row and an event. Knows nothing of HTTP.
 */
export class Runner {
  private readonly store: JobStore;
  private readonly scheduler: Scheduler;
  private readonly workspaces: WorkspaceProvider;
  private readonly events = new EventEmitter();
  private readonly controllers = new Map<string, AbortController>();
  private readonly settled = new Map<string, Promise<void>>();
  private daemonUrl = '';
  private token = '';
  private accepting = true;
  private evictTimer: NodeJS.Timeout | undefined;
  private readonly finished: Record<string, number> = { completed: 0, failed: 0, timed_out: 0, cancelled: 0 };

  constructor(private readonly opts: RunnerOptions) {
    this.store = new JobStore(opts.db);
    const gate = opts.hooks?.gate;
    this.scheduler = new Scheduler(opts.config.max_concurrency, opts.config.max_queue_depth, gate && ((id, passed) => gate(id, passed)));
    this.workspaces = opts.workspaces ?? new WorkspaceManager({
      baseRepo: opts.config.repo,
      root: opts.paths.workspaces,
      logger: opts.logger,
      keep: opts.config.keep_workspace,
    });
    // Every SSE follower is a listener; thousands of followers are legitimate.
    this.events.setMaxListeners(0);
  }

  /** Where agents reach the daemon; known once HTTP listens. */
  setDaemonUrl(url: string, token = ''): void {
    this.daemonUrl = url;
    this.token = token;
  }

  stats(): RunnerStats {
    return {
      active: this.scheduler.active,
      queued: this.scheduler.queued,
      capacity: this.scheduler.slots,
      maxQueueDepth: this.scheduler.depth,
    };
  }

  /**
   * Recover after a restart: end the process groups a killed daemon left running, mark the
   * jobs they belonged to failed, remove workspaces no job owns, run queued jobs again in
   * order, and start evicting.
   */
  start(): void {
    const now = this.opts.clock.now();
    for (const { id, pgid } of this.store.leftoverGroups()) {
      if (killLeftoverGroup(pgid, id)) this.opts.logger.warn({ job_id: id, pgid }, 'killed the process group left by the last daemon');
    }
    const interrupted = this.store.markInterrupted(now);
    if (interrupted) this.opts.logger.warn({ interrupted }, 'jobs running at the last shutdown marked failed');
    this.removeOrphanedWorkspaces();
    for (const job of this.store.queuedInOrder()) this.enqueue(job.id, true);
    this.evictExpired();
    const every = Math.min(60_000, Math.max(1000, (this.opts.config.job_ttl * 1000) / 4));
    this.evictTimer = setInterval(() => this.evictExpired(), every);
    this.evictTimer.unref();
  }

  /** Jobs finished since this runner started, by final status (for /metrics). */
  finishedCounts(): Readonly<Record<string, number>> {
    return this.finished;
  }

  agentNames(): string[] {
    return Object.keys(this.opts.config.agents);
  }

  submit(req: ExecuteRequest): SubmitResult {
    if (!this.accepting) throw new ColonyError('shutting_down', 'the daemon is shutting down', 503);
    const { config, clock } = this.opts;
    const agent = req.agent ?? config.default_agent;
    if (!config.agents[agent]) {
      throw new InvalidInputError(`unknown agent '${agent}'; configured agents: ${this.agentNames().join(', ')}`, {
        fields: ['agent'],
      });
    }
    const allowed = config.agents[agent]!.permissions;
    if (req.permissions && !permitsLevel(allowed, req.permissions)) {
      throw new InvalidInputError(
        `permissions '${req.permissions}' is more than agent '${agent}' allows ('${allowed}'); raise agents.${agent}.permissions in .colony/config.json to allow it`,
        { fields: ['permissions'] },
      );
    }
    if (Buffer.byteLength(req.prompt, 'utf8') > config.max_prompt_bytes) {
      throw new PayloadTooLargeError(`prompt exceeds max_prompt_bytes (${config.max_prompt_bytes} bytes)`);
    }
    // Check before writing the row so a refused job leaves no trace.
    this.scheduler.assertRoom();
    const now = clock.now();
    const id = newId('job', now);
    this.opts.hooks?.admit?.(id, req);
    this.store.insert({
      id,
      agent,
      model: req.model ?? null,
      permissions: req.permissions ?? allowed,
      prompt: req.prompt,
      timeout_s: req.timeout_s ?? config.job_timeout,
      base_ref: req.base_ref ?? null,
      metadata: req.metadata ?? null,
      source: req.source ?? 'execute',
      created_at: now,
    });
    this.emit(id, 'status', { status: 'queued' });
    const position = this.enqueue(id, false);
    return { job_id: id, status: this.store.get(id)!.status, position };
  }

  get(id: string): JobRecord {
    const job = this.store.get(id);
    if (!job) throw new NotFoundError(`no job ${id}`);
    return job;
  }

  /** Look at the queue again: something a gate waits for may have changed. */
  kick(): void {
    this.scheduler.kick();
  }

  /** 1-based place in the queue, 0 when not waiting. */
  positionOf(id: string): number {
    return this.scheduler.positionOf(id);
  }

  list(opts: { status?: JobStatus; limit?: number; cursor?: string }): { jobs: ListedJob[]; next_cursor: string | null } {
    let cursor: number | undefined;
    if (opts.cursor !== undefined) {
      cursor = Number(opts.cursor);
      if (!Number.isInteger(cursor) || cursor < 0) throw new InvalidInputError('cursor: not a valid cursor', { fields: ['cursor'] });
    }
    return this.store.list({ status: opts.status, limit: opts.limit ?? 50, cursor });
  }

  /** Cancel a queued or running job. A finished job is a conflict. */
  cancel(id: string): JobRecord {
    const job = this.get(id);
    if (FINISHED_STATUSES.has(job.status)) throw new ConflictError(`job ${id} already ${job.status}`);
    if (this.scheduler.remove(id)) {
      this.finishJob(id, { status: 'cancelled', error: 'cancelled while queued' });
    } else {
      this.controllers.get(id)?.abort();
    }
    return this.get(id);
  }

  /** Resolves when the job reaches a final status. */
  async waitFor(id: string, signal?: AbortSignal): Promise<JobRecord> {
    const job = this.get(id);
    if (FINISHED_STATUSES.has(job.status)) return job;
    await new Promise<void>((resolve) => {
      const onEvent = (e: JobEvent): void => {
        if (e.type === 'status' && FINISHED_STATUSES.has(e.data.status as JobStatus)) done();
      };
      const done = (): void => {
        this.events.off(id, onEvent);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.events.on(id, onEvent);
      signal?.addEventListener('abort', done, { once: true });
    });
    return this.get(id);
  }

  /** Stored events after `afterId`. */
  eventsSince(id: string, afterId: number): JobEvent[] {
    this.get(id);
    return this.store.eventsSince(id, afterId);
  }

  /** Live events of a job; returns the unsubscribe function. */
  subscribe(id: string, listener: (e: JobEvent) => void): () => void {
    this.events.on(id, listener);
    return () => this.events.off(id, listener);
  }

  /** Live events of every job (the dashboard's list view); returns the unsubscribe function. */
  subscribeAll(listener: (e: JobEvent) => void): () => void {
    this.events.on(ALL_JOBS, listener);
    return () => this.events.off(ALL_JOBS, listener);
  }

  /**
   * Drop finished jobs older than job_ttl from the store, and the workspaces failed ones kept;
   * queued and running jobs are never touched.
   */
  evictExpired(): number {
    const cutoff = this.opts.clock.now() - this.opts.config.job_ttl * 1000;
    const evicted = this.store.evictFinishedBefore(cutoff);
    for (const { id, workspace } of evicted) {
      if (workspace && this.isOwnWorkspace(workspace)) {
        rm(workspace, { recursive: true, force: true }).catch((err: Error) =>
          this.opts.logger.warn({ job_id: id, err: err.message }, 'removing an evicted job workspace failed'),
        );
      }
    }
    if (evicted.length) {
      this.opts.hooks?.evicted?.(evicted.map((e) => e.id));
      this.opts.logger.debug({ evicted: evicted.length }, 'evicted finished jobs');
    }
    return evicted.length;
  }

  /** A path the runner may delete: a direct child of the workspaces root. */
  private isOwnWorkspace(dir: string): boolean {
    const root = resolve(this.opts.paths.workspaces);
    const abs = resolve(dir);
    return abs.startsWith(root + sep) && !abs.slice(root.length + 1).includes(sep);
  }

  /**
   * At start no job runs, so a workspace no job row points at (its job evicted while the
   * daemon was down, or a clone cut short by a crash) and every per-job scratch directory
   * are left-overs.
   */
  private removeOrphanedWorkspaces(): void {
    const kept = new Set([...this.store.keptWorkspaces().values()].map((d) => resolve(d)));
    const root = this.opts.paths.workspaces;
    if (existsSync(root)) {
      for (const name of readdirSync(root)) {
        const dir = resolve(root, name);
        if (kept.has(dir)) continue;
        this.opts.logger.info({ workspace: dir }, 'removing a workspace no job owns');
        rmSync(dir, { recursive: true, force: true });
      }
    }
    rmSync(join(this.opts.paths.dir, 'jobs'), { recursive: true, force: true });
  }

  /**
   * Stop accepting and starting jobs; give running ones `graceMs` to finish, then cancel
   * them. Queued jobs stay queued in the store and run at the next start.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.accepting = false;
    this.scheduler.pause();
    if (this.evictTimer) clearInterval(this.evictTimer);
    const running = [...this.settled.values()];
    if (running.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(running),
      new Promise((r) => {
        timer = setTimeout(r, graceMs);
      }),
    ]);
    clearTimeout(timer);
    for (const [id, c] of this.controllers) {
      this.opts.logger.warn({ job_id: id }, 'cancelling running job at shutdown');
      c.abort();
    }
    await Promise.allSettled([...this.settled.values()]);
  }

  private enqueue(id: string, force: boolean): number {
    return this.scheduler.enqueue(
      id,
      () => {
        const p = this.execute(id).finally(() => this.settled.delete(id));
        this.settled.set(id, p);
        return p;
      },
      force,
    );
  }

  private emit(id: string, type: JobEventType, data: Record<string, unknown>): void {
    const e = this.store.appendEvent(id, type, data, this.opts.clock.now());
    this.events.emit(id, e);
    this.events.emit(ALL_JOBS, e);
  }

  private transition(id: string, status: JobStatus, patch: Parameters<JobStore['update']>[1] = {}): void {
    this.store.update(id, { ...patch, status });
    this.emit(id, 'status', { status, ...(patch.error ? { error: patch.error } : {}) });
  }

  private finishJob(id: string, patch: Parameters<JobStore['update']>[1] & { status: JobStatus }): void {
    this.finished[patch.status] = (this.finished[patch.status] ?? 0) + 1;
    this.transition(id, patch.status, { ...patch, finished_at: this.opts.clock.now() });
    try {
      this.opts.hooks?.finished?.(this.store.get(id)!);
    } catch (err) {
      this.opts.logger.warn({ job_id: id, err: (err as Error).message }, 'finished hook failed');
    }
  }

  /** The level a job runs at: what it asked, capped by its agent's level now (the config may have changed since). */
  private static levelFor(asked: PermissionLevel | null, allowed: PermissionLevel): PermissionLevel {
    return asked && permitsLevel(allowed, asked) ? asked : allowed;
  }

  /** One job from preparing to its final status. Never throws: failures become the job's status. */
  private async execute(id: string): Promise<void> {
    const { config, clock, logger } = this.opts;
    const job = this.store.get(id);
    if (!job || job.status !== 'queued') return;
    const controller = new AbortController();
    this.controllers.set(id, controller);
    const log = logger.child({ job_id: id });
    let ws: Workspace | undefined;
    let outcome: 'success' | 'failure' = 'failure';
    const jobDir = join(this.opts.paths.dir, 'jobs', id);
    try {
      this.transition(id, 'preparing', { started_at: clock.now() });
      const workspace = await this.workspaces.prepare({
        jobId: id,
        baseRef: job.base_ref,
        setup: config.setup,
        prepareTimeoutMs: config.prepare_timeout * 1000,
        setupTimeoutMs: config.setup_timeout * 1000,
        killGraceMs: config.kill_grace_ms,
        env: { COLONY_JOB_ID: id },
        onProcessGroup: (pgid) => this.store.update(id, { pgid }),
        signal: controller.signal,
      });
      ws = workspace;
      this.store.update(id, { pgid: null });
      this.store.update(id, { workspace: workspace.dir, branch: workspace.branch });
      await this.opts.extras?.onWorkspace?.(workspace);
      if (controller.signal.aborted) {
        this.finishJob(id, { status: 'cancelled', error: 'cancelled while preparing' });
        return;
      }
      const agentConfig = config.agents[job.agent];
      if (!agentConfig) throw new ColonyError('unknown_agent', `agent '${job.agent}' is no longer configured`);
      const adapter = adapterFor(agentConfig.type);
      const permissions = Runner.levelFor(job.permissions, agentConfig.permissions);
      // Per-job scratch outside the workspace: agent config files that must not be committed.
      mkdirSync(jobDir, { recursive: true, mode: 0o700 });
      const invocation = adapter.invocation(agentConfig, {
        prompt: job.prompt,
        model: job.model,
        permissions,
        workspace: workspace.dir,
        scratchDir: jobDir,
        mcp: this.opts.extras?.mcpServer?.(),
      });
      const agentFiles = await placeAgentFiles(invocation.files ?? [], workspace.dir);
      const parser = adapter.createParser();
      let result: string | null = null;
      let usage: Usage | null = null;
      let resultIsError = false;
      const stderrTail: string[] = [];
      const onAgentEvents = (events: AgentEvent[]): void => {
        for (const ev of events) {
          if (ev.type === 'result') {
            result = ev.text;
            resultIsError = ev.is_error ?? false;
            usage = ev.usage ? { ...ev.usage, ...(ev.cost_usd !== undefined ? { total_cost_usd: ev.cost_usd } : {}) } : usage;
          }
          this.emit(id, 'agent', ev as unknown as Record<string, unknown>);
        }
      };

      this.transition(id, 'running', { running_at: clock.now() });
      const proc = await runProcess({
        bin: invocation.bin,
        args: invocation.args,
        stdin: invocation.stdin,
        cwd: workspace.dir,
        env: {
          ...process.env,
          ...agentConfig.env,
          ...invocation.env,
          COLONY_JOB_ID: id,
          COLONY_RUN_ID: id,
          COLONY_URL: this.daemonUrl,
          COLONY_TOKEN: this.token,
          COLONY_REPO: config.repo,
          COLONY_PERMISSIONS: permissions,
        },
        timeoutMs: job.timeout_s * 1000,
        killGraceMs: config.kill_grace_ms,
        signal: controller.signal,
        onSpawn: (pgid) => this.store.update(id, { pgid }),
        onStdoutLine: (line: string) => {
          const evs = parser.line(line);
          if (evs.length) onAgentEvents(evs);
          else if (line.trim()) this.emit(id, 'log', { stream: 'stdout', line });
        },
        onStderrLine: (line: string) => {
          stderrTail.push(line);
          if (stderrTail.length > STDERR_TAIL) stderrTail.shift();
          this.emit(id, 'log', { stream: 'stderr', line });
        },
      });
      this.store.update(id, { pgid: null });
      onAgentEvents(parser.end(proc.exitCode));
      await agentFiles.restore();

      if (proc.notFound) {
        this.finishJob(id, { status: 'failed', error: `agent binary '${invocation.bin}' not found on PATH` });
        return;
      }
      const checkCommit = this.opts.extras?.checkCommit;
      const finished = await this.workspaces.finish(workspace, id, checkCommit ? { checkCommit: (paths) => checkCommit(paths, id) } : {});
      const common = {
        exit_code: proc.exitCode,
        result,
        usage,
        branch: finished.branch,
        commits: finished.commits,
        diff_stat: finished.diff_stat,
      };
      if (proc.cancelled) {
        this.finishJob(id, { ...common, status: 'cancelled', error: 'cancelled' });
      } else if (proc.timedOut) {
        this.finishJob(id, { ...common, status: 'timed_out', error: `timed out after ${job.timeout_s} s` });
      } else if (proc.exitCode === 0 && !resultIsError) {
        outcome = 'success';
        this.finishJob(id, { ...common, status: 'completed' });
      } else {
        const why =
          proc.exitCode !== 0
            ? `agent exited with ${proc.signal ? `signal ${proc.signal}` : `code ${proc.exitCode}`}`
            : 'agent reported an error';
        const tail = stderrTail.join('\n').slice(-2000);
        this.finishJob(id, { ...common, status: 'failed', error: tail ? `${why}: ${tail}` : why });
      }
    } catch (err) {
      const cancelled = controller.signal.aborted;
      const message = err instanceof Error ? err.message : String(err);
      if (!cancelled) log.warn({ err: message }, 'job failed');
      // A refused leftover commit means the branch was never fetched back: do not name it.
      const noBranch = err instanceof ColonyError && err.code === 'commit_refused' ? { branch: null } : {};
      this.finishJob(id, cancelled ? { status: 'cancelled', error: 'cancelled' } : { status: 'failed', error: message, ...noBranch });
    } finally {
      this.store.update(id, { pgid: null });
      this.controllers.delete(id);
      rmSync(jobDir, { recursive: true, force: true });
      if (ws) {
        await this.workspaces.remove(ws, outcome).catch((err: Error) => log.warn({ err: err.message }, 'workspace cleanup failed'));
        if (outcome === 'success' || config.keep_workspace === 'never') this.store.update(id, { workspace: null });
      }
    }
  }
}
