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
  /** Untracked files the setup command created, with their blob ids then: not the agent's work. */
  setupFiles?: Map<string, string>;
}

export interface FinishOptions {
  /** The reservation check for the leftover commit: why these paths may not be committed, or nothing. */
  checkCommit?: (paths: string[]) => Promise<string | undefined> | string | undefined;
}

export interface FinishResult {
  branch: string;
  commits: string[];
  diff_stat: DiffStat;
}
