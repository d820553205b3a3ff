import { describe, expect, it } from 'vitest';
import { api } from '../helpers/daemon.js';
import { git } from '../helpers/repo.js';
import { runConflictingPair, startSwarm, taskByKey, useSwarmDaemon, waitSwarm } from './helpers.js';

const { cleanups, setup } = useSwarmDaemon();

describe('a swarm end to end', { timeout: 180_000 }, () => {
  it('6 tasks with dependencies, 3 agents, one merge conflict a follow-up job resolves: everything lands in dependency order', async () => {
    const { d, repo } = await setup({ integrate: { target: 'main', on_failure: 'job', max_attempts: 3 } });
    // Which agent slot works on what, at every change.
    const running: { task: string; worker: number | null }[][] = [];
    cleanups.push(d.swarms.subscribe((v) => running.push(v.tasks.filter((t) => t.state === 'running').map((t) => ({ task: t.task_id, worker: t.worker })))));
    // `left` and `right` both rewrite shared.txt without reserving it: whichever lands second
    // conflicts, and the landing policy's follow-up redoes it on the new tip.
    const id = await startSwarm(d, {
      agents: 3,
      tasks: [
        { id: 'models', description: '[write:models.txt=models]', reserve: ['models.txt'] },
        { id: 'left', description: '[write:shared.txt=left]' },
        { id: 'right', description: '[write:shared.txt=right]' },
        { id: 'api', description: '[write:api.txt=api]', depends_on: ['models'], reserve: ['api.txt'] },
        { id: 'ui', description: '[write:ui.txt=ui]', depends_on: ['api'], reserve: ['ui.txt'] },
        { id: 'docs', description: '[write:docs.txt=docs]', depends_on: ['api', 'left', 'right'], reserve: ['docs.txt'] },
      ],
    });
    const v = await waitSwarm(d, id, 150_000);
    expect(v.status, JSON.stringify(v, null, 1)).toBe('completed');
    expect(v.summary).toMatchObject({ total: 6, landed: 6, stuck: 0 });
    const retried = ['left', 'right'].map((k) => taskByKey(v, k)).filter((t) => t.job_ids.length > 1);
    expect(retried.length, JSON.stringify(v.tasks)).toBeGreaterThanOrEqual(1);
    expect(v.summary.failed_attempts).toBe(retried.reduce((n, t) => n + t.job_ids.length - 1, 0));
    expect(['left', 'right']).toContain(git(repo, 'show', 'main:shared.txt'));
    // Every file on main, and each dependant's commit after its dependencies'.
    const files = git(repo, 'log', '--reverse', '--format=', '--name-only', 'main').split('\n').filter(Boolean);
    for (const f of ['models.txt', 'api.txt', 'ui.txt', 'docs.txt']) expect(files).toContain(f);
    expect(files.indexOf('models.txt')).toBeLessThan(files.indexOf('api.txt'));
    expect(files.indexOf('api.txt')).toBeLessThan(files.indexOf('ui.txt'));
    expect(files.indexOf('api.txt')).toBeLessThan(files.indexOf('docs.txt'));
    expect(files.lastIndexOf('shared.txt')).toBeLessThan(files.indexOf('docs.txt'));
    // The swarm starts at most 3 at once, each in its own slot 1..3 (a follow-up the merge
    // queue queues while every slot is busy waits without one); finished tasks hold none.
    expect(Math.max(...running.map((r) => r.length))).toBeGreaterThanOrEqual(3);
    for (const r of running) {
      const workers = r.map((x) => x.worker).filter((w) => w !== null);
      expect(workers.every((w) => w >= 1 && w <= 3), JSON.stringify(r)).toBe(true);
      expect(new Set(workers).size).toBe(workers.length);
    }
    expect(v.tasks.every((t: any) => t.worker === null)).toBe(true);
    expect(v.summary.cost_usd).toBeCloseTo(0.01 * v.tasks.reduce((n: number, t: any) => n + t.job_ids.length, 0), 6);
  });

  it('on_failure: task — the task the landing policy creates is not the swarm\'s; the swarm retries its own task with a new job', async () => {
    const { d, tmp } = await setup({ integrate: { target: 'main', on_failure: 'task' } });
    const v = await runConflictingPair(d, tmp);
    expect(v.status, JSON.stringify(v, null, 1)).toBe('completed');
    expect(v.summary).toMatchObject({ total: 2, landed: 2, failed_attempts: 1 });
    const second = taskByKey(v, 'second');
    expect(second.job_ids).toHaveLength(2);
    // The retry knows why the first attempt did not land.
    expect((await api(d.url, 'GET', `/jobs/${second.job_ids[1]}`)).body.prompt).toMatch(/An earlier attempt at this task did not land: job \S+: It conflicts with work that landed first in: shared.txt/);
    // The policy's task exists, open, outside the swarm.
    const entry = (await api(d.url, 'GET', `/jobs/${second.job_ids[0]}`)).body.landing.entry;
    expect(entry.status).toBe('conflicted');
    expect(entry.follow_up.task_id).toBeTruthy();
    expect(v.tasks.map((t: any) => t.task_id)).not.toContain(entry.follow_up.task_id);
  });
});
