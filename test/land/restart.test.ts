import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/repo.js';
import { api, git, jobRecord, makeLandRepo, startLandDaemon, submit, waitJob, waitSettled, waitUntil } from './helpers.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('merge queue across a daemon restart', { timeout: 240_000 }, () => {
  it('loses nothing: queued entries stay queued, the one under test is retried', async () => {
    const repo = makeLandRepo();
    cleanups.push(repo.cleanup);
    const gate = tempDir();
    cleanups.push(gate.cleanup);
    const go = join(gate.dir, 'go');
    const runs = join(gate.dir, 'runs');
    const integrate = { batch: 1, check: `echo run >> '${runs}'; while [ ! -e '${go}' ]; do sleep 0.1; done` };
    const first = await startLandDaemon(repo.dir, integrate);
    const jobs: string[] = [];
    for (const f of ['a', 'b', 'c']) jobs.push(await submit(first, { prompt: `[write:${f}.txt=${f}]`, land: true }));
    for (const j of jobs) await waitJob(first.url, j);
    await waitUntil(async () => (await jobRecord(first, jobs[0]!)).landing.entry?.status === 'testing', 90_000, 'the first entry under test');
    const before = (await api(first.url, 'GET', '/merge-queue')).body.entries.map((e: any) => [e.job_id, e.status]);
    expect(before).toEqual([
      [jobs[2], 'queued'],
      [jobs[1], 'queued'],
      [jobs[0], 'testing'],
    ]);
    await first.close();

    writeFileSync(go, '');
    const second = await startLandDaemon(repo.dir, integrate);
    cleanups.push(() => second.close());
    const settled: any[] = [];
    for (const j of jobs) settled.push(await waitSettled(second, j));
    expect(settled.map((e) => e.status)).toEqual(['landed', 'landed', 'landed']);
    const entry0 = (await api(second.url, 'GET', `/merge-queue/${settled[0].id}`)).body;
    expect(entry0.tries).toBe(2);
    expect(git(repo.dir, 'log', '--format=%s', 'main').split('\n')).toEqual([...jobs].reverse().map((j) => `colony: ${j}`).concat('initial'));
    const events = second.land.eventsSince(0).filter((e) => e.entry_id === settled[0].id).map((e) => e.data.reason ?? e.data.status);
    expect(events).toEqual(['queued', 'testing', 'the daemon stopped while it was being tested; retrying', 'testing', 'landed']);
  });
});
