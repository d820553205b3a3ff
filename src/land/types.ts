export const ENTRY_STATUSES = ['queued', 'testing', 'landed', 'conflicted', 'failed_check', 'removed'] as const;
export type EntryStatus = (typeof ENTRY_STATUSES)[number];
/** Entries that still hold their place in the queue. */
export const ACTIVE_ENTRY_STATUSES: ReadonlySet<EntryStatus> = new Set(['queued', 'testing']);

/** Why an entry did not land: the conflicting files and hunks, or the check's output tail. */
export interface Evidence {
  kind: 'conflict' | 'check';
  /** Conflicting files (conflict). */
  files?: string[];
  /** The conflict as `git diff` shows it, markers included; capped. */
  hunks?: string;
  /** The check's exit code, or null when it timed out or was killed. */
  exit_code?: number | null;
  timed_out?: boolean;
  /** Last part of the check's combined output. */
  output_tail?: string;
  /** Target commit the entry was applied on. */
  onto: string;
}

export interface Entry {
  id: string;
  job_id: string;
  branch: string;
  head: string;
  target: string;
  status: EntryStatus;
  /** 1 for a job's own work, n for its (n-1)th follow-up. */
  attempt: number;
  /** How many times the integrator began testing it (a restart mid-test counts). */
  tries: number;
  landed_commit: string | null;
  evidence: Evidence | null;
  /** The follow-up job or task the landing policy started for it. */
  follow_up: { job_id?: string; task_id?: string } | null;
  error: string | null;
  /** 1-based place among queued entries, when queued. */
  position?: number;
  created_at: string;
  updated_at: string;
}

export type LandEventType = 'entry';
export interface LandEvent {
  id: number;
  entry_id: string;
  job_id: string;
  type: LandEventType;
  data: Record<string, unknown>;
  at: string;
}

/** What a job asked of landing and coordination at submission. */
export interface JobLanding {
  job_id: string;
  land: boolean;
  reserve: string[] | null;
  task_id: string | null;
  parent_job_id: string | null;
  depth: number;
  attempt: number;
  follow_up_of: string | null;
  reservation_id: string | null;
  /** Reservations (and the task claim) are held and heartbeated. */
  held: boolean;
  /** While the job waits for its reservations: what it wants and who holds it. */
  waiting: {
    symbols: string[];
    holders: { reservation_id: string; run_id: string; symbols: string[]; expires_at: string }[];
    /** A job that has waited longer for overlapping symbols and now goes first. */
    behind?: string;
  } | null;
  overtakes: number;
}
