import type { Statement } from 'better-sqlite3';
import type { Db } from '../lib/sqlite.js';
import type { PermissionLevel } from '../runner/agents/permissions.js';
import type { SwarmSource, SwarmStatus, SwarmTask, TaskState } from './types.js';

/** A swarm run as stored (times in ms). */
export interface SwarmRun {
  id: string;
  status: SwarmStatus;
  goal: string | null;
  source: SwarmSource;
  agents: number;
  agent: string;
  model: string | null;
  permissions: PermissionLevel | null;
  timeout_s: number | null;
  max_attempts: number;
  planner_job_id: string | null;
  /** Every planner job started, the current one last. */
  planner_job_ids: string[];
  error: string | null;
  failed_attempts: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

type RunRow = Omit<SwarmRun, 'planner_job_ids'> & { planner_job_ids: string };

interface TaskRow {
  swarm_id: string;
  task_id: string;
  ord: number;
  key: string | null;
  description: string;
  depends_on: string;
  reserve: string;
  priority: number;
  state: TaskState;
  attempts: number;
  job_id: string | null;
  job_ids: string;
  worker: number | null;
  reason: string | null;
}

/** A task as a swarm first takes it: what it is, before any work. */
export type NewSwarmTask = Pick<SwarmTask, 'task_id' | 'key' | 'description' | 'depends_on' | 'reserve' | 'priority'>;
export type NewSwarmRun = Omit<SwarmRun, 'error' | 'failed_attempts' | 'finished_at'>;
export type RunPatch = Partial<Pick<SwarmRun, 'status' | 'planner_job_id' | 'planner_job_ids' | 'error' | 'failed_attempts' | 'started_at' | 'finished_at'>>;
export type TaskPatch = Partial<Pick<SwarmTask, 'state' | 'attempts' | 'job_id' | 'job_ids' | 'worker' | 'reason'>>;

const toRun = (r: RunRow): SwarmRun => ({ ...r, planner_job_ids: JSON.parse(r.planner_job_ids) as string[] });

const toTask = (r: TaskRow): SwarmTask => ({
  task_id: r.task_id,
  key: r.key,
  description: r.description,
  depends_on: JSON.parse(r.depends_on) as string[],
  reserve: JSON.parse(r.reserve) as string[],
  priority: r.priority,
  state: r.state,
  attempts: r.attempts,
  job_id: r.job_id,
  job_ids: JSON.parse(r.job_ids) as string[],
  worker: r.worker,
  reason: r.reason,
});

/** Every SQL statement of the swarm domain. */
export class SwarmStore {
  private readonly s: Record<string, Statement>;

  constructor(private readonly db: Db) {
    const p = (sql: string): Statement => db.prepare(sql);
    this.s = {
      insertRun: p(`INSERT INTO swarm_runs (id, status, goal, source, agents, agent, model, permissions, timeout_s, max_attempts, planner_job_id, planner_job_ids, created_at, started_at)
        VALUES (@id, @status, @goal, @source, @agents, @agent, @model, @permissions, @timeout_s, @max_attempts, @planner_job_id, @planner_job_ids, @created_at, @started_at)`),
      getRun: p('SELECT * FROM swarm_runs WHERE id = ?'),
      listRuns: p('SELECT * FROM swarm_runs WHERE seq < ? ORDER BY seq DESC LIMIT ?'),
      openRuns: p("SELECT * FROM swarm_runs WHERE status IN ('planning', 'running') ORDER BY seq"),
      insertTask: p(`INSERT INTO swarm_tasks (swarm_id, task_id, ord, key, description, depends_on, reserve, priority, state)
        VALUES (@swarm_id, @task_id, @ord, @key, @description, @depends_on, @reserve, @priority, @state)`),
      tasksOf: p('SELECT * FROM swarm_tasks WHERE swarm_id = ? ORDER BY ord'),
      getTask: p('SELECT * FROM swarm_tasks WHERE swarm_id = ? AND task_id = ?'),
      tasksOfOpenRuns: p(`SELECT t.task_id FROM swarm_tasks t JOIN swarm_runs r ON r.id = t.swarm_id
        WHERE r.status IN ('planning', 'running')`),
    };
  }

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  insertRun(run: NewSwarmRun): void {
    this.s.insertRun!.run({ ...run, planner_job_ids: JSON.stringify(run.planner_job_ids) });
  }

  run(id: string): SwarmRun | undefined {
    const row = this.s.getRun!.get(id) as RunRow | undefined;
    return row && toRun(row);
  }

  /**
   * Newest first, `limit` of them from before `beforeSeq` (the seq of the last run of the
   * previous page); `next` is the seq to pass for the page after, null when there is none.
   */
  runs(limit: number, beforeSeq = Number.MAX_SAFE_INTEGER): { runs: SwarmRun[]; next: number | null } {
    const rows = this.s.listRuns!.all(beforeSeq, limit + 1) as (RunRow & { seq: number })[];
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    return { runs: page.map(toRun), next: more ? page[page.length - 1]!.seq : null };
  }

  openRuns(): SwarmRun[] {
    return (this.s.openRuns!.all() as RunRow[]).map(toRun);
  }

  updateRun(id: string, patch: RunPatch): void {
    const keys = Object.keys(patch);
    if (!keys.length) return;
    const values = { ...patch, id, ...(patch.planner_job_ids ? { planner_job_ids: JSON.stringify(patch.planner_job_ids) } : {}) };
    // Column names come from the RunPatch type, never from input.
    this.db.prepare(`UPDATE swarm_runs SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`).run(values);
  }

  insertTasks(swarmId: string, tasks: NewSwarmTask[]): void {
    tasks.forEach((t, ord) =>
      this.s.insertTask!.run({
        swarm_id: swarmId,
        task_id: t.task_id,
        ord,
        key: t.key,
        description: t.description,
        depends_on: JSON.stringify(t.depends_on),
        reserve: JSON.stringify(t.reserve),
        priority: t.priority,
        state: 'waiting',
      }),
    );
  }

  tasks(swarmId: string): SwarmTask[] {
    return (this.s.tasksOf!.all(swarmId) as TaskRow[]).map(toTask);
  }

  task(swarmId: string, taskId: string): SwarmTask | undefined {
    const row = this.s.getTask!.get(swarmId, taskId) as TaskRow | undefined;
    return row && toTask(row);
  }

  /** Task ids an unfinished swarm owns. */
  tasksOfOpenRuns(): Set<string> {
    return new Set((this.s.tasksOfOpenRuns!.all() as { task_id: string }[]).map((r) => r.task_id));
  }

  updateTask(swarmId: string, taskId: string, patch: TaskPatch): void {
    const keys = Object.keys(patch) as (keyof TaskPatch)[];
    if (!keys.length) return;
    const values: Record<string, unknown> = { swarm_id: swarmId, task_id: taskId };
    for (const k of keys) values[k] = k === 'job_ids' ? JSON.stringify(patch.job_ids) : patch[k];
    // Column names come from the TaskPatch type, never from input.
    this.db.prepare(`UPDATE swarm_tasks SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE swarm_id = @swarm_id AND task_id = @task_id`).run(values);
  }
}
