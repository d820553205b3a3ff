import type { Usage } from '../runner/types.js';
import type { SwarmRun } from './store.js';
import type { SwarmTask, SwarmView } from './types.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * A swarm as the API shows it: the run, its tasks, and a summary whose usage is summed over
 * every job of the swarm (every planner attempt, task attempts and follow-ups) from the job records.
 */
export function swarmView(run: SwarmRun, tasks: SwarmTask[], usageOf: (jobId: string) => Usage | null | undefined, now: number): SwarmView {
  const usage = { cost_usd: 0, input_tokens: 0, output_tokens: 0 };
  for (const id of [...run.planner_job_ids, ...tasks.flatMap((t) => t.job_ids)]) {
    const u = usageOf(id);
    if (!u) continue;
    usage.cost_usd += u.total_cost_usd ?? 0;
    usage.input_tokens += u.input_tokens ?? 0;
    usage.output_tokens += u.output_tokens ?? 0;
  }
  const count = (...states: SwarmTask['state'][]): number => tasks.filter((t) => states.includes(t.state)).length;
  return {
    swarm_id: run.id,
    status: run.status,
    goal: run.goal,
    source: run.source,
    agents: run.agents,
    agent: run.agent,
    model: run.model,
    max_attempts: run.max_attempts,
    created_at: iso(run.created_at)!,
    started_at: iso(run.started_at),
    finished_at: iso(run.finished_at),
    planner_job_id: run.planner_job_id,
    planner_job_ids: run.planner_job_ids,
    error: run.error,
    tasks,
    summary: {
      total: tasks.length,
      landed: count('landed'),
      running: count('running', 'landing'),
      waiting: count('waiting', 'ready'),
      stuck: count('stuck'),
      failed_attempts: run.failed_attempts,
      // Sums of many small floats: rounded to a millionth of a dollar.
      cost_usd: Math.round(usage.cost_usd * 1e6) / 1e6,
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      wall_ms: (run.finished_at ?? now) - run.created_at,
    },
  };
}
