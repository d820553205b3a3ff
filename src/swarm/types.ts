import type { PermissionLevel } from '../runner/agents/permissions.js';

export const SWARM_STATUSES = ['planning', 'running', 'completed', 'failed', 'cancelled'] as const;
export type SwarmStatus = (typeof SWARM_STATUSES)[number];
/** A swarm in one of these has ended and changes no more. */
export const TERMINAL_SWARM_STATUSES: ReadonlySet<SwarmStatus> = new Set(['completed', 'failed', 'cancelled']);

export const TASK_STATES = ['waiting', 'ready', 'running', 'landing', 'landed', 'stuck', 'cancelled'] as const;
export type TaskState = (typeof TASK_STATES)[number];
/** Task states a swarm no longer acts on. */
export const SETTLED_TASK_STATES: ReadonlySet<TaskState> = new Set(['landed', 'stuck', 'cancelled']);

/** Where a swarm's tasks came from: a planner job, a given list, or the repository's open tasks. */
export type SwarmSource = 'plan' | 'tasks' | 'open';

/** One task as a swarm is asked to run it (a tasks file entry, or a POST /swarms `tasks` item). */
export interface TaskSpec {
  /** A local key other specs name in depends_on. */
  id?: string;
  description: string;
  depends_on?: string[];
  /** Files, symbols or globs the task will touch; its job reserves them. */
  reserve?: string[];
  priority?: number;
}

export interface SwarmRequest {
  agents?: number;
  agent?: string;
  model?: string;
  plan?: string;
  tasks?: TaskSpec[];
  max_attempts?: number;
  permissions?: PermissionLevel;
  timeout_s?: number;
}

export interface SwarmTask {
  task_id: string;
  key: string | null;
  description: string;
  depends_on: string[];
  reserve: string[];
  priority: number;
  state: TaskState;
  attempts: number;
  job_id: string | null;
  job_ids: string[];
  worker: number | null;
  reason: string | null;
}

export interface SwarmSummary {
  total: number;
  landed: number;
  running: number;
  waiting: number;
  stuck: number;
  failed_attempts: number;
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
  wall_ms: number;
}

export interface SwarmView {
  swarm_id: string;
  status: SwarmStatus;
  goal: string | null;
  source: SwarmSource;
  agents: number;
  agent: string;
  model: string | null;
  max_attempts: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  planner_job_id: string | null;
  /** Every planner job the swarm started (a failed one is followed by another), the current one last. */
  planner_job_ids: string[];
  error: string | null;
  tasks: SwarmTask[];
  summary: SwarmSummary;
}
