import { describe, expect, it } from 'vitest';
import { api } from '../helpers/daemon.js';
import { git } from '../helpers/repo.js';
import { startSwarm, taskByKey, useSwarmDaemon, waitSwarm } from './helpers.js';

const { setup } = useSwarmDaemon();

describe('swarms from a task list', { timeout: 120_000 }, () => {
  it('lands every task through the merge queue, dependants after what they depend on, and sums usage', async () => {
    const { d, repo } = await setup();
    const id = await startSwarm(d, {
      agents: 2,
      tasks: [
        { id: 'base', description: 'create the base [write:base.txt=base]', reserve: ['base.txt'] },
        { id: 'uses', description: 'build on it [write:uses.txt=uses]', depends_on: ['base'], reserve: ['uses.txt'], priority: 5 },
        { id: 'side', description: 'an independent change [write:side.txt=side]', reserve: ['side.txt'] },
      ],
    });
    const v = await waitSwarm(d, id);
    expect(v.status, JSON.stringify(v, null, 1)).toBe('completed');
    expect(v.source).toBe('tasks');
    expect(v.tasks.map((t: any) => [t.key, t.state, t.attempts])).toEqual([
      ['base', 'landed', 1],
      ['uses', 'landed', 1],
      ['side', 'landed', 1],
    ]);
    const base = taskByKey(v, 'base');
    const uses = taskByKey(v, 'uses');
    expect(uses.depends_on).toEqual([base.task_id]);
    expect(uses.reserve).toEqual(['uses.txt']);
    expect(uses.priority).toBe(5);
    expect(v.summary).toMatchObject({ total: 3, landed: 3, running: 0, waiting: 0, stuck: 0, failed_attempts: 0, cost_usd: 0.03, input_tokens: 300, output_tokens: 30 });
    expect(v.summary.wall_ms).toBeGreaterThan(0);
    expect(v.finished_at).toBeTruthy();

    // On main, the dependant landed after its dependency.
    const log = git(repo, 'log', '--format=%s', '--name-only', 'main').split('\n').filter(Boolean);
    expect(log.indexOf('base.txt')).toBeGreaterThan(log.indexOf('uses.txt'));
    expect(git(repo, 'show', 'main:uses.txt')).toBe('uses');
    // Each job carried its task, its reservation and landing; the coord task is complete.
    const job = (await api(d.url, 'GET', `/jobs/${uses.job_id}`)).body;
    expect(job.landing).toMatchObject({ task_id: uses.task_id, reserve: ['uses.txt'], land: true });
    expect(job.prompt).toContain('uses.txt');
    expect(d.coord.taskGet(uses.task_id)?.completed_at).toBeTruthy();
    expect(d.coord.taskGet(uses.task_id)?.reserve).toEqual(['uses.txt']);
    // Listed newest first.
    expect((await api(d.url, 'GET', '/swarms')).body.swarms.map((s: any) => s.swarm_id)).toEqual([id]);
  });

  it('retries a failing task until max_attempts, then leaves it and its dependants stuck with the reason', async () => {
    const { d } = await setup();
    const id = await startSwarm(d, {
      max_attempts: 2,
      tasks: [
        { id: 'good', description: '[write:good.txt=good]' },
        { id: 'bad', description: 'this one fails [fail]' },
        { id: 'after', description: '[write:after.txt=after]', depends_on: ['bad'] },
        { id: 'later', description: '[write:later.txt=later]', depends_on: ['after'] },
      ],
    });
    const v = await waitSwarm(d, id);
    expect(v.status, JSON.stringify(v, null, 1)).toBe('failed');
    expect(v.error).toMatch(/3 of 4 tasks stuck/);
    const bad = taskByKey(v, 'bad');
    expect(bad).toMatchObject({ state: 'stuck', attempts: 2 });
    expect(bad.job_ids).toHaveLength(2);
    expect(bad.reason).toMatch(/failed/);
    expect(taskByKey(v, 'after')).toMatchObject({ state: 'stuck', attempts: 0, reason: 'blocked by bad', job_ids: [] });
    expect(taskByKey(v, 'later')).toMatchObject({ state: 'stuck', reason: 'blocked by after' });
    expect(taskByKey(v, 'good').state).toBe('landed');
    expect(v.summary).toMatchObject({ landed: 1, stuck: 3, failed_attempts: 2 });
    // The stuck task is open again for anyone (its claim was given back).
    expect(d.coord.taskClaim({ run_id: 'someone', task_id: bad.task_id }).claimed).toBe(true);
  });

  it('refuses bad input with 400 naming the field, and 404 for an unknown swarm', async () => {
    const { d } = await setup();
    const bad = async (body: unknown): Promise<string> => {
      const r = await api(d.url, 'POST', '/swarms', body);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      return r.body.error.message;
    };
    expect(await bad({ plan: 'x', tasks: [{ description: 'y' }] })).toMatch(/plan.*either plan or tasks/);
    expect(await bad({ tasks: [{ id: 'a', description: 'a', depends_on: ['nope'] }] })).toMatch(/tasks\.0\.depends_on\.0: no task has id 'nope'/);
    expect(await bad({ tasks: [{ id: 'a', description: 'a', depends_on: ['b'] }, { id: 'b', description: 'b', depends_on: ['a'] }] })).toMatch(/cycle/);
    expect(await bad({ tasks: [{ id: 'a', description: 'a' }, { id: 'a', description: 'b' }] })).toMatch(/tasks\.1\.id/);
    expect(await bad({ agents: 0, tasks: [{ description: 'a' }] })).toMatch(/agents/);
    expect(await bad({ agents: 33, tasks: [{ description: 'a' }] })).toMatch(/agents/);
    expect(await bad({ tasks: [{ description: 'a', reserve: ['a[b'] }] })).toMatch(/tasks\.0\.reserve/);
    expect(await bad({ tasks: [] })).toMatch(/tasks/);
    expect(await bad({ plan: 'x'.repeat(17 * 1024) })).toMatch(/plan/);
    expect(await bad({ tasks: [{ description: 'a', extra: 1 }] })).toMatch(/extra|Unrecognized/);
    expect(await bad({ permissions: 'root', tasks: [{ description: 'a' }] })).toMatch(/permissions/);
    expect(await bad({ agent: 'nobody', tasks: [{ description: 'a' }] })).toMatch(/agent: unknown agent 'nobody'; configured agents: .*swarm/);
    // No tasks given and none open in the repository.
    expect(await bad({})).toMatch(/no open tasks/);
    expect((await api(d.url, 'GET', '/swarms/swarm_nope')).status).toBe(404);
    expect((await api(d.url, 'POST', '/swarms/swarm_nope/cancel')).status).toBe(404);
    expect((await api(d.url, 'GET', '/swarms')).body.swarms).toEqual([]);
  });

  it("with neither plan nor tasks, works through the repository's open tasks, waiting on a dependency it does not own", async () => {
    const { d } = await setup();
    const outside = d.coord.taskCreate({ run_id: 'person', description: 'done by a person' }).task_id;
    const mine = d.coord.taskCreate({ run_id: 'person', description: '[write:open.txt=open]', reserve: ['open.txt'] }).task_id;
    d.coord.taskClaim({ run_id: 'person', task_id: outside });
    const dep = d.coord.taskCreate({ run_id: 'person', description: '[write:dep.txt=dep]', depends_on: [outside] }).task_id;
    const id = await startSwarm(d, { agents: 1 });
    let v = (await api(d.url, 'GET', `/swarms/${id}`)).body;
    expect(v.source).toBe('open');
    // The claimed task is someone else's; the one that needs it waits and says why.
    expect(v.tasks.map((t: any) => t.task_id).sort()).toEqual([mine, dep].sort());
    const byId = (x: any, taskId: string): any => x.tasks.find((t: any) => t.task_id === taskId);
    v = await waitUntilView(d, id, (x) => byId(x, mine).state === 'landed');
    expect(byId(v, dep)).toMatchObject({ state: 'waiting', reason: `waiting on ${outside}, a task outside this swarm` });
    expect(byId(v, mine).reserve).toEqual(['open.txt']);
    // A second swarm over the open tasks leaves the first one's alone.
    const second = await api(d.url, 'POST', '/swarms', {});
    expect(second.status).toBe(400);
    expect(second.body.error.message).toMatch(/no open tasks/);
    d.coord.taskComplete({ run_id: 'person', task_id: outside });
    v = await waitSwarm(d, id);
    expect(v.status).toBe('completed');
  });
});

async function waitUntilView(d: any, id: string, ok: (v: any) => boolean): Promise<any> {
  const { waitUntil } = await import('../helpers/daemon.js');
  return waitUntil(async () => {
    const v = (await api(d.url, 'GET', `/swarms/${id}`)).body;
    return ok(v) ? v : undefined;
  }, 60_000);
}
