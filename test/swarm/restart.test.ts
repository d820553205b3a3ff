import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, waitUntil } from '../helpers/daemon.js';
import { makeLandRepo } from '../land/helpers.js';
import { git, tempDir } from '../helpers/repo.js';
import { startCrowdedConflict, startSwarm, startSwarmDaemon, taskByKey, useCleanups, waitSwarm, watchActiveJobs } from './helpers.js';

const cleanups = useCleanups();

describe('swarms across a daemon restart', { timeout: 120_000 }, () => {
  it('resumes: the job the restart interrupted counts as a failed attempt and is retried, the queued job runs, everything lands', async () => {
    const repo = makeLandRepo();
    cleanups.push(repo.cleanup);
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const started = join(tmp.dir, 'started');
    const go = join(tmp.dir, 'go');
    // One runner slot: the second task's job waits in the runner's queue.
    const first = await startSwarmDaemon({ max_concurrency: 1 }, repo.dir);
    const id = await startSwarm(first.d, {
      agents: 2,
      max_attempts: 2,
      tasks: [
        { id: 'held', description: `[started:${started}] [block:${go}] [write:held.txt=held]` },
        { id: 'queued', description: '[write:queued.txt=queued]' },
      ],
    });
    await waitUntil(() => existsSync(started), 30_000, 'the first job to start');
    const before = (await api(first.d.url, 'GET', `/swarms/${id}`)).body;
    const queuedJob = taskByKey(before, 'queued').job_id;
    expect((await api(first.d.url, 'GET', `/jobs/${queuedJob}`)).body.status).toBe('queued');
    await first.d.close();

    writeFileSync(go, '');
    const second = await startSwarmDaemon({ max_concurrency: 1 }, repo.dir);
    cleanups.push(() => second.d.close());
    const v = await waitSwarm(second.d, id);
    expect(v.status, JSON.stringify(v, null, 1)).toBe('completed');
    const held = taskByKey(v, 'held');
    expect(held.attempts).toBe(2);
    expect(held.job_ids[0]).toBe(taskByKey(before, 'held').job_id);
    expect(taskByKey(v, 'queued')).toMatchObject({ attempts: 1, job_ids: [queuedJob], state: 'landed' });
    expect(v.summary.failed_attempts).toBe(1);
    expect(git(repo.dir, 'show', 'main:held.txt')).toBe('held');
  });

  it('a merge-queue follow-up held for a free slot at shutdown is not lost: the next daemon keeps it held until the swarm gives it a slot, then it lands', async () => {
    const repo = makeLandRepo();
    cleanups.push(repo.cleanup);
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const overrides = { integrate: { target: 'main', on_failure: 'job', max_attempts: 3 } };
    const first = await startSwarmDaemon(overrides, repo.dir);
    const { id, followUp, release, fu } = await startCrowdedConflict(first.d, tmp.dir);
    expect((await api(first.d.url, 'GET', `/jobs/${followUp}`)).body.status).toBe('queued');
    // The shutdown cancels holder and third (blocked); the held follow-up stays queued.
    await first.d.close();

    writeFileSync(fu, '');
    writeFileSync(release, '');
    const second = await startSwarmDaemon(overrides, repo.dir);
    cleanups.push(() => second.d.close());
    const active = watchActiveJobs(second.d, cleanups);
    const v = await waitSwarm(second.d, id);
    expect(v.status, JSON.stringify(v, null, 1)).toBe('completed');
    expect(v.summary).toMatchObject({ total: 5, landed: 5, stuck: 0 });
    expect(active.max()).toBeLessThanOrEqual(2);
    // The same follow-up job, not a new attempt, landed `second`.
    const t = taskByKey(v, 'second');
    expect(t.job_ids).toHaveLength(2);
    expect(t.job_ids[1]).toBe(followUp);
    expect((await api(second.d.url, 'GET', `/jobs/${followUp}`)).body.landing.entry.status).toBe('landed');
    expect(git(repo.dir, 'show', 'main:shared.txt')).toBe('second');
  });
});
