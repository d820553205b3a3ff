import { EventEmitter } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../lib/sqlite.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { newId } from '../lib/ids.js';
import { ColonyError, ConflictError, InvalidInputError, NotFoundError, PayloadTooLargeError } from '../lib/errors.js';
import type { ColonyConfig } from '../daemon/config.js';
import type { ColonyPaths } from '../daemon/paths.js';
import { JobStore } from './job-store.js';
import { Scheduler } from './scheduler.js';
import { WorkspaceManager } from './workspace.js';
import { adapterFor } from './agents/index.js';
import type { McpServerSpec } from './agents/types.js';
import { runProcess } from './process.js';
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
  /** Colony's MCP server for the agent, its files written into the job's scratch directory. */
  mcpConfig?: (jobDir: string) => McpServerSpec | undefined;
  /** Called once the workspace exists, before the agent starts. */
  onWorkspace?: (ws: Workspace) => Promise<void>;
}

/**
 * Where another domain (landing) joins the runner's life cycle. `admit` may refuse a job
 * (throw) before anything is stored; `gate` holds a queued job back without blocking
 * later ones; `finished` hears every final status.
 */
export interface RunnerHooks {
  admit?(jobId: string, req: ExecuteRequest): void;
  gate?(jobId: string, passedOver: readonly string[]): boolean;
  finished?(job: JobRecord): void;
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

  /** Recover after a restart (running jobs are lost, queued ones run again in order) and start evicting. */
  start(): void {
    const now = this.opts.clock.now();
    const interrupted = this.store.markInterrupted(now);
    if (interrupted) this.opts.logger.warn({ interrupted }, 'jobs running at the last shutdown marked failed');
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

  list(opts: { status?: JobStatus; limit?: number; cursor?: string }): { jobs: JobRecord[]; next_cursor: string | null } {
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

  /** Drop finished jobs older than job_ttl from the store; queued and running jobs are never touched. */
  evictExpired(): number {
    const cutoff = this.opts.clock.now() - this.opts.config.job_ttl * 1000;
    const ids = this.store.evictFinishedBefore(cutoff);
    if (ids.length) this.opts.logger.debug({ evicted: ids.length }, 'evicted finished jobs');
    return ids.length;
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

  /** Per-job scratch outside the workspace (agent config files that must not be committed). */
  private makeJobDir(dir: string): string {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
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
        signal: controller.signal,
      });
      ws = workspace;
      this.store.update(id, { workspace: workspace.dir, branch: workspace.branch });
      await this.opts.extras?.onWorkspace?.(workspace);
      if (controller.signal.aborted) {
        this.finishJob(id, { status: 'cancelled', error: 'cancelled while preparing' });
        return;
      }
      const agentConfig = config.agents[job.agent];
      if (!agentConfig) throw new ColonyError('unknown_agent', `agent '${job.agent}' is no longer configured`);
      const adapter = adapterFor(agentConfig.type);
      const invocation = adapter.invocation(agentConfig, {
        prompt: job.prompt,
        model: job.model,
        mcp: this.opts.extras?.mcpConfig ? this.opts.extras.mcpConfig(this.makeJobDir(jobDir)) : undefined,
      });
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
        },
        timeoutMs: job.timeout_s * 1000,
        killGraceMs: config.kill_grace_ms,
        signal: controller.signal,
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
      onAgentEvents(parser.end(proc.exitCode));

      if (proc.notFound) {
        this.finishJob(id, { status: 'failed', error: `agent binary '${invocation.bin}' not found on PATH` });
        return;
      }
      const finished = await this.workspaces.finish(workspace, id);
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
      this.finishJob(id, cancelled ? { status: 'cancelled', error: 'cancelled' } : { status: 'failed', error: message });
    } finally {
      this.controllers.delete(id);
      if (this.opts.extras?.mcpConfig) rmSync(jobDir, { recursive: true, force: true });
      if (ws) {
        await this.workspaces.remove(ws, outcome).catch((err: Error) => log.warn({ err: err.message }, 'workspace cleanup failed'));
        if (outcome === 'success' || config.keep_workspace === 'never') this.store.update(id, { workspace: null });
      }
    }
  }
}
