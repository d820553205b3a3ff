import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();

/** A git branch name as configuration gives it (no leading dash, no `..`, no spaces). */
const branchName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^(?!-)(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9._\/-]+$/, 'not a valid branch name');

/**
 * `integrate`: the merge queue. A check is an argv array, or a string run by `sh -c` (the
 * operator's own configuration, never built from input).
 */
export const integrateConfigSchema = z
  .object({
    /** Branch the queue lands on; default: the branch checked out in the repository when the daemon starts. */
    target: branchName.optional(),
    check: z.union([z.array(z.string().min(1)).min(1), z.string().min(1)]).optional(),
    /** Seconds one run of the check may take. */
    check_timeout: positiveInt.default(1800),
    strategy: z.enum(['rebase', 'merge', 'squash']).default('rebase'),
    /** Queue every completed job that made commits. */
    auto: z.preprocess((v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v), z.boolean()).default(false),
    /** Largest number of entries tested together on one candidate. */
    batch: positiveInt.max(256).default(8),
    /** Checks run at once while bisecting a red batch. */
    parallel_checks: positiveInt.max(16).default(2),
    /** What a conflicted or red entry leads to: nothing, a task, or a follow-up job. */
    on_failure: z.enum(['none', 'task', 'job']).default('none'),
    /** Attempts per piece of work, the first included, before follow-ups stop. */
    max_attempts: positiveInt.max(20).default(3),
  })
  .strict();
export type IntegrateConfig = z.infer<typeof integrateConfigSchema>;

/** `orchestrate`: reservations held by jobs and jobs started by jobs. */
export const orchestrateConfigSchema = z
  .object({
    /** Times a job waiting for reservations may be overtaken before it blocks newcomers that overlap it. */
    max_overtakes: z.coerce.number().int().min(0).max(10_000).default(5),
    /** Seconds a job's reservations and task claim last between heartbeats. */
    reserve_ttl: positiveInt.max(86_400).default(600),
    /** Depth of the job tree: a job started by a job started by a person is depth 2. */
    max_depth: positiveInt.max(20).default(2),
    /** Jobs one job may start. */
    max_children: positiveInt.max(1000).default(10),
  })
  .strict();
export type OrchestrateConfig = z.infer<typeof orchestrateConfigSchema>;
