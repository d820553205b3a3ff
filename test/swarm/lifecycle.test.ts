import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, TEST_TOKEN, waitUntil } from '../helpers/daemon.js';
import { tempDir } from '../helpers/repo.js';
import { readSse } from '../../src/cli/sse-client.js';
import { runConflictingPair, startSwarm, taskByKey, useSwarmDaemon, waitSwarm } from './helpers.js';

const { cleanups, setup } = useSwarmDaemon();

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

  it('cancel while branches wait in the merge queue: a queued entry is taken out and gives back its reservation', async () => {
    const tmp0 = tempDir();
    cleanups.push(tmp0.cleanup);
    const go = join(tmp0.dir, 'go');
    // One entry at a time, and a check that holds the first under test until told.
    const { d } = await setup({ integrate: { target: 'main', batch: 1, check: `while [ ! -f '${go}' ]; do sleep 0.05; done` } });
    cleanups.push(() => writeFileSync(go, ''));
    const id = await startSwarm(d, {
      agents: 2,
      tasks: [
        { id: 'one', description: '[write:one.txt=1]', reserve: ['one.txt'] },
        { id: 'two', description: '[write:two.txt=2]', reserve: ['two.txt'] },
      ],
    });
    const landing = await waitUntil(async () => {
      const v = (await api(d.url, 'GET', `/swarms/${id}`)).body;
      return v.tasks.every((t: any) => t.state === 'landing') ? v : undefined;
    }, 60_000, 'both tasks to reach the merge queue');
    const entries = (await api(d.url, 'GET', '/merge-queue')).body.entries;
    const queued = entries.find((e: any) => e.status === 'queued');
    expect(queued, JSON.stringify(entries)).toBeTruthy();
    const queuedTask = landing.tasks.find((t: any) => t.job_id === queued.job_id);
    expect(d.coord.status({ run_id: queued.job_id }).reservations).toHaveLength(1);

    const v = (await api(d.url, 'POST', `/swarms/${id}/cancel`)).body;
    expect(v.tasks.map((t: any) => t.state)).toEqual(['cancelled', 'cancelled']);
    expect((await api(d.url, 'GET', `/merge-queue/${queued.id}`)).body.status).toBe('removed');
    expect(d.coord.status({ run_id: queued.job_id }).reservations).toEqual([]);
    expect(d.coord.taskClaim({ run_id: 'someone', task_id: queuedTask.task_id }).claimed).toBe(true);
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

  it('a conflict in the merge queue: the follow-up job continues the same task and lands it', async () => {
    const { d, tmp } = await setup({ integrate: { target: 'main', on_failure: 'job', max_attempts: 2 } });
    const v = await runConflictingPair(d, tmp);
    expect(v.status, JSON.stringify(v, null, 1)).toBe('completed');
    const second = taskByKey(v, 'second');
    expect(second.job_ids).toHaveLength(2);
    expect(second.attempts).toBe(2);
    const followUp = (await api(d.url, 'GET', `/jobs/${second.job_ids[1]}`)).body;
    expect(followUp.landing.follow_up_of).toBeTruthy();
    expect(v.summary.failed_attempts).toBe(1);
  });

  it('a follow-up started while every slot is busy takes the first slot that frees: no new task starts until the swarm is back under agents', async () => {
    const tmp0 = tempDir();
    cleanups.push(tmp0.cleanup);
    const checked = join(tmp0.dir, 'checked');
    // The first entry's check is red, so landing starts a follow-up job for it.
    const { d, tmp } = await setup({
      integrate: { target: 'main', on_failure: 'job', max_attempts: 2, check: `if [ -e '${checked}' ]; then exit 0; fi; touch '${checked}'; exit 1` },
    });
    const goB = join(tmp, 'go-b');
    const goFollowUp = join(tmp, 'go-follow-up');
    cleanups.push(() => writeFileSync(goB, ''), () => writeFileSync(goFollowUp, ''));
    const views: any[] = [];
    cleanups.push(d.swarms.subscribe((v) => views.push(v)));
    const id = await startSwarm(d, {
      agents: 1,
      tasks: [
        { id: 'a', description: `[write:a.txt=a] [follow-up-block:${goFollowUp}]`, priority: 2 },
        { id: 'b', description: `[block:${goB}] [write:b.txt=b]`, priority: 1 },
        { id: 'c', description: '[write:c.txt=c]' },
      ],
    });
    // a's follow-up runs while b holds the only slot: landing started it, the swarm could not delay it.
    const both = await waitUntil(async () => {
      const v = (await api(d.url, 'GET', `/swarms/${id}`)).body;
      return taskByKey(v, 'a').job_ids.length === 2 && taskByKey(v, 'a').state === 'running' ? v : undefined;
    }, 60_000, "a's follow-up to start");
    expect(taskByKey(both, 'b')).toMatchObject({ state: 'running', worker: 1 });
    expect(taskByKey(both, 'a').worker).toBeNull();
    writeFileSync(goB, '');
    // b lands; the follow-up takes its slot and c waits.
    const held = await waitUntil(async () => {
      const v = (await api(d.url, 'GET', `/swarms/${id}`)).body;
      return taskByKey(v, 'b').state === 'landed' ? v : undefined;
    }, 60_000, 'b to land');
    await new Promise((res) => setTimeout(res, 300));
    const after = (await api(d.url, 'GET', `/swarms/${id}`)).body;
    for (const v of [held, after]) {
      expect(taskByKey(v, 'a')).toMatchObject({ state: 'running', worker: 1 });
      expect(taskByKey(v, 'c')).toMatchObject({ state: 'ready', job_ids: [] });
    }
    writeFileSync(goFollowUp, '');
    const v = await waitSwarm(d, id);
    expect(v.status, JSON.stringify(v, null, 1)).toBe('completed');
    // c never ran beside the follow-up.
    for (const x of views) if (taskByKey(x, 'c').state === 'running') expect(taskByKey(x, 'a').state).not.toBe('running');
  });
});
