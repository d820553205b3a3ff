import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { colonyJson } from '../helpers/cli.js';
import { tempDir } from '../helpers/repo.js';
import { TEST_TOKEN } from '../helpers/daemon.js';

const AUTH = { COLONY_TOKEN: TEST_TOKEN };
import { api, git, jobRecord, makeLandRepo, startLandDaemon, submit, waitJob, waitSettled, waitUntil } from './helpers.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A daemon whose failed landings start a follow-up job, and a `go` file for jobs to block on. */
async function followUpDaemon(overrides: Record<string, unknown>) {
  const repo = makeLandRepo();
  cleanups.push(repo.cleanup);
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const d = await startLandDaemon(repo.dir, { on_failure: 'job', max_attempts: 2 }, overrides);
  cleanups.push(() => d.close());
  return { repo, d, go: join(tmp.dir, 'go') };
}

describe('landing policy', { timeout: 240_000 }, () => {
  it('two jobs edit the same lines: the second conflicts with evidence, and its follow-up job resolves it and lands', async () => {
    const { repo, d, go } = await followUpDaemon({ max_concurrency: 2 });

    const a = await submit(d, { prompt: '[write:shared.txt=from A]', land: true });
    // B starts from the same tip as A, and finishes only after A has landed.
    const b = await submit(d, { prompt: `[block:${go}] [write:shared.txt=from B]`, land: true });
    expect((await waitSettled(d, a)).status).toBe('landed');
    writeFileSync(go, '');
    const eb = await waitSettled(d, b);
    expect(eb.status).toBe('conflicted');
    expect(eb.evidence.files).toEqual(['shared.txt']);
    expect(eb.evidence.hunks).toMatch(/<<<<<<<[\s\S]*from A[\s\S]*=======[\s\S]*from B[\s\S]*>>>>>>>/);
    const followUp = eb.follow_up.job_id as string;
    expect(followUp).toBeTruthy();

    const ef = await waitSettled(d, followUp);
    expect(ef.status).toBe('landed');
    const rec = await jobRecord(d, followUp);
    expect(rec.landing).toMatchObject({ attempt: 2, follow_up_of: eb.id });
    expect(rec.prompt).toContain('shared.txt');
    expect(rec.prompt).toContain('<<<<<<<');
    expect(git(repo.dir, 'show', 'main:shared.txt')).toBe('from B');
    expect(git(repo.dir, 'log', '--format=%s', 'main').split('\n')).toEqual([`colony: ${followUp}`, `colony: ${a}`, 'initial']);

    // The CLI shows the same queue.
    const ls = await colonyJson(['queue', 'ls', '--repo', repo.dir], repo.dir, AUTH);
    expect(ls.entries.map((e: any) => [e.job_id, e.status])).toEqual([
      [followUp, 'landed'],
      [b, 'conflicted'],
      [a, 'landed'],
    ]);
  });

  it('a follow-up gate (what swarms provide) holds the follow-up queued, later jobs passing it, until it allows; only follow-ups are asked', async () => {
    const { repo, d, go } = await followUpDaemon({ max_concurrency: 2 });
    let allow = false;
    const asked: [string, string][] = [];
    d.land.gateFollowUps((job, continues) => {
      asked.push([job.id, continues]);
      return allow;
    });

    const a = await submit(d, { prompt: '[write:shared.txt=from A]', land: true });
    const b = await submit(d, { prompt: `[block:${go}] [write:shared.txt=from B]`, land: true });
    expect((await waitSettled(d, a)).status).toBe('landed');
    writeFileSync(go, '');
    const eb = await waitSettled(d, b);
    expect(eb.status).toBe('conflicted');
    const followUp = eb.follow_up.job_id as string;
    const later = await submit(d, { prompt: '[write:later.txt=later]', land: true });
    expect((await waitSettled(d, later)).status).toBe('landed');
    expect((await jobRecord(d, followUp)).status).toBe('queued');
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every(([job, continues]) => job === followUp && continues === b)).toBe(true);

    allow = true;
    d.runner.kick();
    expect((await waitSettled(d, followUp)).status).toBe('landed');
    expect(git(repo.dir, 'show', 'main:shared.txt')).toBe('from B');
  });

  it('a follow-up the gate holds is not waiting for its reservations: later jobs wanting the same symbols do not queue behind it', async () => {
    // max_overtakes 0: a job waiting for its reservations is never passed by newcomers wanting the same symbols.
    const { d, go } = await followUpDaemon({ max_concurrency: 2, orchestrate: { max_overtakes: 0 } });
    let allow = false;
    d.land.gateFollowUps(() => allow);

    const a = await submit(d, { prompt: '[write:shared.txt=from A]', land: true });
    // B reserves notes.txt, which its follow-up reserves in turn.
    const b = await submit(d, { prompt: `[block:${go}] [write:shared.txt=from B]`, land: true, reserve: ['notes.txt'] });
    expect((await waitSettled(d, a)).status).toBe('landed');
    writeFileSync(go, '');
    const followUp = (await waitSettled(d, b)).follow_up.job_id as string;
    const later = await submit(d, { prompt: '[write:notes.txt=later]', land: true, reserve: ['notes.txt'] });
    expect((await waitSettled(d, later)).status).toBe('landed');
    expect((await jobRecord(d, followUp)).status).toBe('queued');

    allow = true;
    d.runner.kick();
    expect((await waitSettled(d, followUp)).status).toBe('landed');
  });

  it('a red check with on_failure task creates a task carrying the check output; retry and remove work from the CLI', async () => {
    const repo = makeLandRepo();
    cleanups.push(repo.cleanup);
    const d = await startLandDaemon(repo.dir, { on_failure: 'task', check: 'if grep -l broken *.txt; then echo "tests failed" >&2; exit 1; fi' });
    cleanups.push(() => d.close());
    const bad = await submit(d, { prompt: '[write:x.txt=broken]' });
    await waitJob(d.url, bad);
    // Landed on request after the job finished, through the CLI.
    const landed = await colonyJson(['land', bad, '--repo', repo.dir], repo.dir, AUTH);
    expect(landed.entry).toMatchObject({ job_id: bad, status: 'queued' });
    const e = await waitSettled(d, bad);
    expect(e.status).toBe('failed_check');
    expect(e.evidence.output_tail).toContain('tests failed');
    const taskId = e.follow_up.task_id as string;
    const tasks = (await api(d.url, 'GET', '/tasks')).body.tasks;
    const task = tasks.find((t: any) => t.task_id === taskId);
    expect(task.description).toContain('tests failed');
    expect(task.description).toContain('[write:x.txt=broken]');

    const again = await colonyJson(['queue', 'retry', e.id, '--repo', repo.dir], repo.dir, AUTH);
    expect(again).toMatchObject({ job_id: bad, status: 'queued' });
    const settledAgain = await waitUntil(async () => {
      const s = (await api(d.url, 'GET', `/merge-queue/${again.id}`)).body;
      return s.status === 'failed_check' ? s : undefined;
    });
    expect(settledAgain.tries).toBe(1);
    const removed = await colonyJson(['queue', 'rm', again.id, '--repo', repo.dir], repo.dir, AUTH);
    expect(removed.status).toBe('removed');
    const refused = await api(d.url, 'POST', `/merge-queue/${again.id}/remove`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/already removed/);
    // main never moved.
    expect(git(repo.dir, 'log', '--format=%s', 'main')).toBe('initial');
  });

  it('streams every transition as server-sent events, replaying from Last-Event-ID', async () => {
    const repo = makeLandRepo();
    cleanups.push(repo.cleanup);
    const d = await startLandDaemon(repo.dir);
    cleanups.push(() => d.close());
    const a = await submit(d, { prompt: '[write:a.txt=1]', land: true });
    await waitSettled(d, a);
    const ctrl = new AbortController();
    const res = await fetch(`${d.url}/merge-queue/events`, { headers: { authorization: 'Bearer test-token-0123456789abcdef', 'last-event-id': '0' }, signal: ctrl.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('"landed"')) text += new TextDecoder().decode((await reader.read()).value);
    ctrl.abort();
    const statuses = [...text.matchAll(/"status":"([a-z_]+)"/g)].map((m) => m[1]);
    expect(statuses).toEqual(['queued', 'testing', 'landed']);
    expect(text).toMatch(/^id: \d+$/m);
  });
});
