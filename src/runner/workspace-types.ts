import type { DiffStat } from './types.js';

export interface PrepareOptions {
  jobId: string;
  /** Ref to branch from; default the base's HEAD. */
  baseRef?: string | null;
  /** Command run in the workspace before the agent (argv, or string for `sh -c`). */
  setup?: string[] | string;
  signal?: AbortSignal;
}

export interface Workspace {
  dir: string;
  branch: string;
  /** Commit the workspace started from. */
  baseCommit: string;
}

export interface FinishResult {
  branch: string;
  commits: string[];
  diff_stat: DiffStat;
}
