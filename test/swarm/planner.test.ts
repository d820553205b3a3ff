import { describe, expect, it } from 'vitest';
import { api } from '../helpers/daemon.js';
import { join } from 'node:path';
import { git } from '../helpers/repo.js';
import { startSwarm, useSwarmDaemon, waitSwarm } from './helpers.js';

const { setup } = useSwarmDaemon();

describe('swarms from a goal (planner mode)', { timeout: 120_000 }, () => {
  it('plan: a planner job creates tasks through the MCP task tools, then the swarm lands them', async () => {
    const { d, repo } = await setup();
    const goal = 'Add two files. [task:one||one.txt|write one {write:one.txt=1}] [task:two|one|two.txt|write two {write:two.txt=2}]';
    const id = await startSwarm(d, { plan: goal, agents: 2 });
    const first = (await api(d.url, 'GET', `/swarms/${id}`)).body;
    expect(first).toMatchObject({ status: 'planning', source: 'plan', goal, tasks: [] });
    const planner = (await api(d.url, 'GET', `/jobs/${first.planner_job_id}`)).body;
    expect(planner.prompt).toContain(`run_id "${id}"`);
    expect(planner.prompt).toContain(goal);
    const v = await waitSwarm(d, id);
    expect(v.status, JSON.stringify(v, null, 1)).toBe('completed');
    expect(v.tasks.map((t: any) => [t.description, t.reserve, t.state])).toEqual([
      ['write one [write:one.txt=1]', ['one.txt'], 'landed'],
      ['write two [write:two.txt=2]', ['two.txt'], 'landed'],
    ]);
    expect(v.tasks[1].depends_on).toEqual([v.tasks[0].task_id]);
    // Usage of the planner and both workers.
    expect(v.summary).toMatchObject({ cost_usd: 0.03, input_tokens: 300 });
    expect(git(repo, 'show', 'main:two.txt')).toBe('2');
  });

  it('plan: a planner that fails or creates nothing fails the swarm with the error', async () => {
    const { d } = await setup();
    const failed = await waitSwarm(d, await startSwarm(d, { plan: 'cannot plan [fail]' }));
    expect(failed).toMatchObject({ status: 'failed', tasks: [] });
    expect(failed.error).toMatch(/the planner job \S+ failed/);
    // The planner, like a task, had max_attempts (2) jobs.
    expect(failed.summary.failed_attempts).toBe(2);
    expect(failed.error).toContain(failed.planner_job_id);
    const empty = await waitSwarm(d, await startSwarm(d, { plan: 'nothing to do' }));
    expect(empty.error).toMatch(/completed without creating any task/);
  });

  it('plan: a failed planner attempt is followed by another, and its usage counts in the summary', async () => {
    const { d, tmp } = await setup();
    const goal = `One file. [fail-once:${join(tmp, 'failed')}] [task:one||one.txt|write one {write:one.txt=1}]`;
    const v = await waitSwarm(d, await startSwarm(d, { plan: goal }));
    expect(v.status, JSON.stringify(v, null, 1)).toBe('completed');
    expect(v.planner_job_ids).toHaveLength(2);
    expect(v.planner_job_ids[1]).toBe(v.planner_job_id);
    const first = (await api(d.url, 'GET', `/jobs/${v.planner_job_ids[0]}`)).body;
    expect(first).toMatchObject({ status: 'failed', usage: { total_cost_usd: 0.01, input_tokens: 100 } });
    // Both planner attempts and the one worker job.
    expect(v.summary).toMatchObject({ failed_attempts: 1, cost_usd: 0.03, input_tokens: 300, output_tokens: 30 });
  });

});
