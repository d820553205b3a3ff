import type { DiffStat } from './types.js';

export interface PrepareOptions {
  jobId: string;
  /** Ref to branch from; default the base's HEAD. */
  baseRef?: string | null;
  /** Command run in the workspace before the agent (argv, or string for `sh -c`). */
  setup?: string[] | string;
  /** Bound on preparing (clone, checkout, include copy, git-crypt unlock); none when absent. */
  prepareTimeoutMs?: number;
  /** Bound on the setup command; its process group is killed when it passes. */
  setupTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace for the setup command's process group. */
  killGraceMs?: number;
  /** Extra environment for the setup command (COLONY_JOB_ID marks its processes as the job's). */
  env?: NodeJS.ProcessEnv;
  /** Called with the setup command's process group id once it is spawned. */
  onProcessGroup?(pgid: number): void;
  signal?: AbortSignal;
}

export interface Workspace {
  dir: string;
  branch: string;
  /** Commit the workspace started from. */
  baseCommit: string;
  /** Untracked files the setup command created, with their blob ids then: not the agent's work. */
  setupFiles?: Map<string, string>;
  /** The clone was unlocked with git-crypt: its files must still read as plaintext when it is handed back. */
  gitCrypt?: boolean;
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
