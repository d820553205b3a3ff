export const JOB_STATUSES = [
  'queued',
  'preparing',
  'running',
  'completed',
  'failed',
  'timed_out',
  'cancelled',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const FINISHED_STATUSES: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'timed_out', 'cancelled']);

export interface Usage {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
  total_cost_usd?: number;
  num_turns?: number;
  duration_ms?: number;
}

export interface DiffStat {
  files: number;
  insertions: number;
  deletions: number;
}

export interface JobRecord {
  id: string;
  status: JobStatus;
  agent: string;
  model: string | null;
  prompt: string;
  timeout_s: number;
  base_ref: string | null;
  metadata: Record<string, unknown> | null;
  /** `execute` or `chat`: which API queued it. */
  source: string;
  created_at: string;
  started_at: string | null;
  running_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  result: string | null;
  usage: Usage | null;
  branch: string | null;
  commits: string[] | null;
  diff_stat: DiffStat | null;
  error: string | null;
}

export interface ExecuteRequest {
  prompt: string;
  agent?: string;
  model?: string;
  timeout_s?: number;
  base_ref?: string;
  metadata?: Record<string, unknown>;
  source?: string;
  /** Symbols the job reserves under its own run id before it starts (see src/land). */
  reserve?: string[];
  /** Task the job claims now and completes when its work lands. */
  task_id?: string;
  /** Queue the job's branch for landing when it completes. */
  land?: boolean;
  /** The job that started this one (an orchestrating agent). */
  parent_job_id?: string;
}

/** What an agent adapter makes of its CLI's output. */
export type AgentEvent =
  | { type: 'init'; session_id?: string; model?: string }
  | { type: 'text'; text: string }
  | { type: 'tool_use'; name: string; input?: unknown }
  | { type: 'tool_result'; content?: unknown; is_error?: boolean }
  | { type: 'result'; text: string; usage?: Usage; cost_usd?: number; is_error?: boolean };

/** A job's event stream, as stored and as sent over SSE. */
export type JobEventType = 'status' | 'agent' | 'log';
export interface JobEvent {
  id: number;
  job_id: string;
  type: JobEventType;
  data: Record<string, unknown>;
  at: string;
}
