import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { api } from '../helpers/daemon.js';
import { git } from '../helpers/repo.js';
import { startCrowdedConflict, taskByKey, useSwarmDaemon, waitSwarm, watchActiveJobs } from './helpers.js';

const { cleanups, setup } = useSwarmDaemon();

describe('a swarm never runs more than `agents` jobs', { timeout: 180_000 }, () => {
  it('a merge-queue follow-up due while every slot is busy waits queued for a free slot, takes it before a new task, and lands', async () => {
    const { d, repo, tmp } = await setup({ integrate: { target: 'main', on_failure: 'job', max_attempts: 3 } });
    const active = watchActiveJobs(d, cleanups);
    const { id, followUp, release, fu } = await startCrowdedConflict(d, tmp);

    // Both slots are busy (holder, third): the follow-up is held, not started.
    expect(active.max()).toBe(2);
    expect((await api(d.url, 'GET', `/jobs/${followUp}`)).body.status).toBe('queued');

    writeFileSync(fu, '');
    writeFileSync(release, '');
    const v = await waitSwarm(d, id);
    expect(v.status, JSON.stringify(v, null, 1)).toBe('completed');
    expect(v.summary).toMatchObject({ total: 5, landed: 5, stuck: 0, failed_attempts: 1 });
    expect(active.max()).toBe(2);
    // The follow-up continued `second` and landed it; it took the first freed slot, `last` a later one.
    const fuJob = (await api(d.url, 'GET', `/jobs/${followUp}`)).body;
    expect(fuJob.landing.entry.status).toBe('landed');
    expect(taskByKey(v, 'second').job_ids.at(-1)).toBe(followUp);
    const lastJob = (await api(d.url, 'GET', `/jobs/${taskByKey(v, 'last').job_id}`)).body;
    expect(Date.parse(fuJob.started_at)).toBeLessThanOrEqual(Date.parse(lastJob.started_at));
    expect(git(repo, 'show', 'main:shared.txt')).toBe('second');
  });
});
