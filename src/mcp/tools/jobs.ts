import { z } from 'zod';
import type { Runner } from '../../runner/runner.js';
import { JOB_STATUSES, type JobRecord } from '../../runner/types.js';
import type { LandService } from '../../land/index.js';
import { defineTool, type ToolCallContext, type ToolDef } from '../tool.js';

const jobId = z.string().min(1).max(100);
const symbols = z.array(z.string().min(1).max(1024)).min(1).max(1000);

/** The caller's own job, when it is a job's agent (its bridge announced the job's run). */
function callerJob(runner: Runner, ctx: ToolCallContext): string | undefined {
  const run = ctx.session?.runId;
  if (!run) return undefined;
  try {
    return runner.get(run).id;
  } catch {
    return undefined;
  }
}

/** A job as these tools show it: the record without the prompt, plus its landing state. */
function view(job: JobRecord, land: LandService): Record<string, unknown> {
  const { prompt: _prompt, ...rest } = job;
  return { job_id: job.id, ...rest, landing: land.describeJob(job.id) ?? null };
}

/**
 * Tools for orchestrating agents: start jobs, watch them, wait for them, cancel them.
 * A job started by a job's agent records that job as its parent; depth and fan-out are
 * limited (orchestrate.max_depth, orchestrate.max_children) so a runaway is refused.
 */
export function jobTools(runner: Runner, land: LandService): ToolDef[] {
  return [
    defineTool({
      name: 'job_submit',
      description:
        'Start an agent job in its own checkout. Optional: agent, model, reserve (symbols the job holds until its work lands), task_id (claimed for the job, completed when it lands), land (queue its branch to land when it completes). Returns {job_id, status, position}.',
      input: z
        .object({
          prompt: z.string().min(1).max(1024 * 1024),
          agent: z.string().min(1).max(100).optional(),
          model: z.string().min(1).max(200).optional(),
          timeout_s: z.number().int().positive().max(7 * 24 * 3600).optional(),
          reserve: symbols.optional(),
          task_id: z.string().min(1).max(100).optional(),
          land: z.boolean().optional(),
        })
        .strict(),
      handler: (a, ctx) => {
        const parent = callerJob(runner, ctx);
        return runner.submit({ ...a, source: 'mcp', ...(parent ? { parent_job_id: parent } : {}) });
      },
    }),
    defineTool({
      name: 'job_status',
      description: 'A job: status, branch, result, error, and its landing state.',
      input: z.object({ job_id: jobId }).strict(),
      handler: (a) => view(runner.get(a.job_id), land),
    }),
    defineTool({
      name: 'job_wait',
      description: 'Wait until a job finishes, at most timeout_s seconds. Returns {finished, job}.',
      input: z.object({ job_id: jobId, timeout_s: z.number().min(0).max(3600).default(300) }).strict(),
      handler: async (a, ctx) => {
        const stop = AbortSignal.any([AbortSignal.timeout(Math.max(1, a.timeout_s * 1000)), ...(ctx.signal ? [ctx.signal] : [])]);
        const job = a.timeout_s === 0 ? runner.get(a.job_id) : await runner.waitFor(a.job_id, stop);
        const finished = ['completed', 'failed', 'timed_out', 'cancelled'].includes(job.status);
        return { finished, job: view(job, land) };
      },
    }),
    defineTool({
      name: 'job_cancel',
      description: 'Cancel a queued or running job.',
      input: z.object({ job_id: jobId }).strict(),
      handler: (a) => {
        const job = runner.cancel(a.job_id);
        return { job_id: job.id, status: job.status };
      },
    }),
    defineTool({
      name: 'job_list',
      description: "Jobs, newest first. From a job's agent: the jobs it started (unless all: true).",
      input: z
        .object({
          status: z.enum(JOB_STATUSES).optional(),
          limit: z.number().int().min(1).max(1000).default(50),
          all: z.boolean().default(false),
        })
        .strict(),
      handler: (a, ctx) => {
        const parent = a.all ? undefined : callerJob(runner, ctx);
        if (parent) {
          const jobs = land
            .children(parent, 1000)
            .flatMap((id) => {
              try {
                return [runner.get(id)];
              } catch {
                return []; // evicted after job_ttl
              }
            })
            .filter((j) => !a.status || j.status === a.status)
            .slice(0, a.limit)
            .map((j) => view(j, land));
          return { jobs };
        }
        return { jobs: runner.list({ status: a.status, limit: a.limit }).jobs.map((j) => view(j, land)) };
      },
    }),
  ];
}
