import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, TEST_TOKEN, waitUntil } from '../helpers/daemon.js';
import { git, tempDir } from '../helpers/repo.js';
import { readSse } from '../../src/cli/sse-client.js';
import { startSwarm, startSwarmDaemon, taskByKey, waitSwarm } from './helpers.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(overrides: Record<string, unknown> = {}) {
  const s = await startSwarmDaemon(overrides);
  cleanups.push(s.cleanup, () => s.d.close());
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  return { ...s, tmp: tmp.dir };
}

/** Collect `event: swarm` payloads of an SSE stream until `until` says stop (or the stream ends). */
async function collect(url: string, path: string, until: (views: any[]) => boolean, signal: AbortSignal): Promise<any[]> {
  const res = await fetch(url + path, { headers: { authorization: `Bearer ${TEST_TOKEN}` }, signal });
  expect(res.status).toBe(200);
  const views: any[] = [];
  try {
    for await (const m of readSse(res.body!)) {
      if (m.event !== 'swarm') continue;
      views.push(JSON.parse(m.data));
      if (until(views)) break;
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
  return views;
}

describe('swarm life cycle', { timeout: 120_000 }, () => {
  it('cancel mid-run: no new jobs, the running job cancelled, unlanded tasks cancelled, reservations and claims given back', async () => {
    const { d, tmp } = await setup();
    const started = join(tmp, 'started');
    const id = await startSwarm(d, {
      agents: 1,
      tasks: [
        { id: 'slow', description: `[started:${started}] [block:${join(tmp, 'never')}]`, reserve: ['slow.txt'] },
        { id: 'next', description: '[write:next.txt=next]', depends_on: ['slow'] },
        { id: 'other', description: '[write:other.txt=other]' },
      ],
    });
    await waitUntil(() => existsSync(started), 30_000, 'the first job to start');
    const before = (await api(d.url, 'GET', `/swarms/${id}`)).body;
    const slow = taskByKey(before, 'slow');
    expect(slow).toMatchObject({ state: 'running', worker: 1 });
    expect(taskByKey(before, 'other')).toMatchObject({ state: 'ready', job_id: null });
    expect(d.coord.status({ run_id: slow.job_id }).reservations).toHaveLength(1);

    const r = await api(d.url, 'POST', `/swarms/${id}/cancel`);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('cancelled');
    expect(r.body.tasks.map((t: any) => t.state)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    // Idempotent.
    expect((await api(d.url, 'POST', `/swarms/${id}/cancel`)).body.status).toBe('cancelled');
    const job = await waitUntil(async () => {
      const j = (await api(d.url, 'GET', `/jobs/${slow.job_id}`)).body;
      return j.status === 'cancelled' ? j : undefined;
    }, 30_000);
    expect(job.status).toBe('cancelled');
    await waitUntil(() => d.coord.status({ run_id: slow.job_id }).reservations.length === 0, 10_000, 'the reservation to be released');
    expect(d.coord.taskClaim({ run_id: 'someone', task_id: slow.task_id }).claimed).toBe(true);
    // Nothing else was started.
    await new Promise((res) => setTimeout(res, 500));
    const after = (await api(d.url, 'GET', `/swarms/${id}`)).body;
    expect(after.tasks.flatMap((t: any) => t.job_ids)).toEqual([slow.job_id]);
    expect(after.finished_at).toBeTruthy();
  });

  it('GET /swarms/:id/events sends the view at connect and on every change, ending after the swarm ends; /events sends swarm too', async () => {
    const { d, tmp } = await setup();
    const go = join(tmp, 'go');
    const id = await startSwarm(d, { tasks: [{ id: 'a', description: `[block:${go}] [write:a.txt=a]` }, { id: 'b', description: '[write:b.txt=b]', depends_on: ['a'] }] });
    const ac = new AbortController();
    cleanups.push(() => ac.abort());
    // /events: the unfinished swarm right after hello, then its changes.
    const daemonWide = collect(d.url, '/events', (vs) => vs.some((v) => v.swarm_id === id && v.status === 'completed'), ac.signal);
    const own = collect(d.url, `/swarms/${id}/events`, () => false, ac.signal);
    await new Promise((res) => setTimeout(res, 300));
    writeFileSync(go, '');
    const views = await own;
    expect(views[0].swarm_id).toBe(id);
    expect(views.at(-1).status).toBe('completed');
    expect(views.length).toBeGreaterThan(2);
    const states = views.map((v) => taskByKey(v, 'b').state);
    expect(states).toContain('waiting');
    expect(states.at(-1)).toBe('landed');
    const wide = await daemonWide;
    expect(wide[0]).toMatchObject({ swarm_id: id, status: 'running' });
    expect(wide.at(-1)).toMatchObject({ swarm_id: id, status: 'completed' });
    // A finished swarm's stream sends its view once and ends.
    const again = await collect(d.url, `/swarms/${id}/events`, () => false, ac.signal);
    expect(again.map((v) => v.status)).toEqual(['completed']);
  });

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
    const empty = await waitSwarm(d, await startSwarm(d, { plan: 'nothing to do' }));
    expect(empty.error).toMatch(/completed without creating any task/);
  });

  it('a conflict in the merge queue: the follow-up job continues the same task and lands it', async () => {
    const { d, tmp } = await setup({ integrate: { target: 'main', on_failure: 'job', max_attempts: 2 } });
    const go = join(tmp, 'go');
    const id = await startSwarm(d, {
      agents: 2,
      tasks: [
        { id: 'first', description: '[write:shared.txt=first]' },
        { id: 'second', description: `[block:${go}] [write:shared.txt=second]` },
      ],
    });
    await waitUntil(async () => taskByKey((await api(d.url, 'GET', `/swarms/${id}`)).body, 'first').state === 'landed', 60_000, 'first to land');
    writeFileSync(go, '');
    const v = await waitSwarm(d, id);
    expect(v.status, JSON.stringify(v, null, 1)).toBe('completed');
    const second = taskByKey(v, 'second');
    expect(second.job_ids).toHaveLength(2);
    expect(second.attempts).toBe(2);
    const followUp = (await api(d.url, 'GET', `/jobs/${second.job_ids[1]}`)).body;
    expect(followUp.landing.follow_up_of).toBeTruthy();
    expect(v.summary.failed_attempts).toBe(1);
  });
});
