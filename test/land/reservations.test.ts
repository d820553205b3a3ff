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

async function setup(integrate: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}) {
  const repo = makeLandRepo();
  cleanups.push(repo.cleanup);
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const d = await startLandDaemon(repo.dir, integrate, overrides);
  cleanups.push(() => d.close());
  return { repo, d, tmp: tmp.dir };
}

const holders = async (d: { url: string }, symbols: string[]) => (await api(d.url, 'POST', '/coord/check', { symbols })).body.holders.map((h: any) => h.run_id);

describe('jobs that reserve', { timeout: 240_000 }, () => {
  it('waits while another run holds its symbols, lets later jobs overtake, and starts once they are free', async () => {
    const { d } = await setup({}, { max_concurrency: 2 });
    const person = (await api(d.url, 'POST', '/coord/reserve', { run_id: 'person', symbols: ['shared.txt'] })).body;
    expect(person.granted).toBe(true);
    const a = await submit(d, { prompt: '[write:shared.txt=A]', reserve: ['shared.txt'] });
    const b = await submit(d, { prompt: '[write:b.txt=B]' });
    expect((await waitJob(d.url, b)).status).toBe('completed');
    const waiting = await jobRecord(d, a);
    expect(waiting.status).toBe('queued');
    expect(waiting.position).toBe(1);
    expect(waiting.landing.waiting_for.symbols).toEqual(['shared.txt']);
    expect(waiting.landing.waiting_for.holders).toMatchObject([{ run_id: 'person', symbols: ['shared.txt'] }]);

    await api(d.url, 'POST', '/coord/release', { run_id: 'person', reservation_id: person.reservation_id });
    expect((await waitJob(d.url, a)).status).toBe('completed');
    // A job that does not land gives its reservations back when it completes.
    expect(await holders(d, ['shared.txt'])).toEqual([]);
  });

  it('a job overtaken max_overtakes times makes newcomers that overlap it wait behind it', async () => {
    const { d, tmp } = await setup({}, { max_concurrency: 2, orchestrate: { max_overtakes: 1 } });
    const go = join(tmp, 'go');
    const person = (await api(d.url, 'POST', '/coord/reserve', { run_id: 'person', symbols: ['x.txt'] })).body;
    const w = await submit(d, { prompt: '[write:x.txt=w]', reserve: ['x.txt', 'y.txt'] });
    const n1 = await submit(d, { prompt: `[block:${go}]`, reserve: ['q.txt'] });
    await waitUntil(async () => (await jobRecord(d, n1)).status === 'running', 90_000, 'n1 to run');
    // y.txt is free, but the starved job wants it too: the newcomer waits behind it.
    const n2 = await submit(d, { prompt: '[write:y.txt=n2]', reserve: ['y.txt'] });
    const rec = await waitUntil(async () => (await jobRecord(d, n2)).landing?.waiting_for, 90_000, 'n2 to wait');
    expect(rec.behind).toBe(w);
    expect((await jobRecord(d, w)).landing.waiting_for.holders[0].run_id).toBe('person');

    await api(d.url, 'POST', '/coord/release', { run_id: 'person', reservation_id: person.reservation_id });
    expect((await waitJob(d.url, w)).status).toBe('completed');
    writeFileSync(go, '');
    expect((await waitJob(d.url, n2)).status).toBe('completed');
    expect((await waitJob(d.url, n1)).status).toBe('completed');
    const started = (id: string) => jobRecord(d, id).then((j) => Date.parse(j.running_at));
    expect(await started(n2)).toBeGreaterThanOrEqual(await started(w));
  });

  it('holds reservations while the branch waits in the merge queue and releases them when it lands', async () => {
    const gate = tempDir();
    cleanups.push(gate.cleanup);
    const go = join(gate.dir, 'go');
    const { d } = await setup({ check: `while [ ! -e '${go}' ]; do sleep 0.1; done` });
    const a = await submit(d, { prompt: '[write:a.txt=1]', reserve: ['a.txt'], land: true });
    await waitJob(d.url, a);
    await waitUntil(async () => (await jobRecord(d, a)).landing.entry?.status === 'testing', 90_000, 'the entry to be tested');
    expect(await holders(d, ['a.txt'])).toEqual([a]);
    expect((await jobRecord(d, a)).landing.reservation_id).toBeTruthy();
    writeFileSync(go, '');
    expect((await waitSettled(d, a)).status).toBe('landed');
    expect(await holders(d, ['a.txt'])).toEqual([]);
  });
});

describe('jobs that claim a task', { timeout: 240_000 }, () => {
  it('claims the task for the job, refuses a second claimer, and completes it when the branch lands', async () => {
    const { d } = await setup();
    const { task_id } = (await api(d.url, 'POST', '/tasks/create', { run_id: 'planner', description: 'write a.txt' })).body;
    const tasks = async () => (await api(d.url, 'GET', '/tasks')).body.tasks.find((t: any) => t.task_id === task_id);
    const a = await submit(d, { prompt: '[write:a.txt=1]', task_id, land: true });
    expect((await tasks()).claimed_by).toBe(a);
    const refused = await api(d.url, 'POST', '/execute', { prompt: 'me too', task_id });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(new RegExp(`already claimed by run ${a}`));
    expect((await waitSettled(d, a)).status).toBe('landed');
    expect(await tasks()).toMatchObject({ completed_by: a });
  });

  it('a failed job abandons its claim', async () => {
    const { d } = await setup();
    const { task_id } = (await api(d.url, 'POST', '/tasks/create', { run_id: 'planner', description: 'x' })).body;
    const a = await submit(d, { prompt: '[fail]', task_id, land: true });
    expect((await waitJob(d.url, a)).status).toBe('failed');
    const t = (await api(d.url, 'GET', '/tasks')).body.tasks.find((x: any) => x.task_id === task_id);
    expect(t.claimed_by).toBeNull();
    expect(t.completed_by).toBeNull();
    expect((await api(d.url, 'POST', '/tasks/claim', { run_id: 'other', task_id })).body.claimed).toBe(true);
  });
});

describe('retrying a merge-queue entry of a job that claims a task', { timeout: 240_000 }, () => {
  it('claims the task again (refused while another run holds it) and completes it when the entry lands', async () => {
    const gate = tempDir();
    cleanups.push(gate.cleanup);
    const ok = join(gate.dir, 'ok');
    const { d } = await setup({ check: `test -e '${ok}'` });
    const { task_id } = (await api(d.url, 'POST', '/tasks/create', { run_id: 'planner', description: 'write a.txt' })).body;
    const task = async () => (await api(d.url, 'GET', '/tasks')).body.tasks.find((t: any) => t.task_id === task_id);
    const a = await submit(d, { prompt: '[write:a.txt=1]', task_id, land: true });
    const failed = await waitSettled(d, a);
    expect(failed.status).toBe('failed_check');
    expect((await task()).claimed_by).toBeNull();

    // Someone else took the task meanwhile: landing the old work over theirs is refused.
    expect((await api(d.url, 'POST', '/tasks/claim', { run_id: 'other', task_id })).body.claimed).toBe(true);
    const refused = await api(d.url, 'POST', `/merge-queue/${failed.id}/retry`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(new RegExp(`task ${task_id} is claimed by run other`));
    expect((await api(d.url, 'GET', '/merge-queue')).body.entries.map((e: any) => e.status)).toEqual(['failed_check']);
    expect((await task()).claimed_by).toBe('other');

    await api(d.url, 'POST', '/tasks/abandon', { run_id: 'other', task_id });
    writeFileSync(ok, '');
    const retried = await api(d.url, 'POST', `/merge-queue/${failed.id}/retry`);
    expect(retried.status).toBe(202);
    expect((await task()).claimed_by).toBe(a);
    expect((await waitSettled(d, a)).status).toBe('landed');
    expect(await task()).toMatchObject({ completed_by: a });
  });
});

describe('retrying a merge-queue entry of a job that reserves', { timeout: 240_000 }, () => {
  /** Red until `ok` exists, then green once `go` exists: the test decides when the retried entry settles. */
  async function failedEntry(orchestrate: Record<string, unknown> = {}) {
    const gate = tempDir();
    cleanups.push(gate.cleanup);
    const ok = join(gate.dir, 'ok');
    const go = join(gate.dir, 'go');
    const { d, repo } = await setup({ check: `test -e '${ok}' || exit 1; while [ ! -e '${go}' ]; do sleep 0.1; done` }, { orchestrate });
    const a = await submit(d, { prompt: '[write:a.txt=1]', reserve: ['a.txt'], land: true });
    const failed = await waitSettled(d, a);
    expect(failed.status).toBe('failed_check');
    // A red entry gives its reservations back.
    expect(await holders(d, ['a.txt'])).toEqual([]);
    return { d, repo, a, failed, ok, go };
  }
  const live = async (d: { url: string }, runId: string) => (await api(d.url, 'GET', `/coord/status?run_id=${runId}`)).body.reservations;

  it('re-takes the reservations under the job id, heartbeats them while the entry waits, and releases them when it lands', async () => {
    // A short ttl: the re-taken reservation outlives it only if it is heartbeated.
    const { d, a, failed, ok, go } = await failedEntry({ reserve_ttl: 3 });
    writeFileSync(ok, '');
    const retried = await api(d.url, 'POST', `/merge-queue/${failed.id}/retry`);
    expect(retried.status).toBe(202);
    // Held from the moment the entry is back in the queue, not only once it is tested.
    expect(await holders(d, ['a.txt'])).toEqual([a]);
    const [taken] = await live(d, a);
    expect(taken.symbols).toEqual(['a.txt']);
    expect((await jobRecord(d, a)).landing.reservation_id).toBe(taken.reservation_id);

    await waitUntil(async () => (await api(d.url, 'GET', `/merge-queue/${retried.body.id}`)).body.status === 'testing', 90_000, 'the retried entry to be tested');
    await waitUntil(async () => (await live(d, a))[0]?.expires_at > taken.expires_at, 90_000, 'a heartbeat of the re-taken reservation');
    expect(await holders(d, ['a.txt'])).toEqual([a]);

    writeFileSync(go, '');
    const landed = await waitSettled(d, a);
    expect(landed).toMatchObject({ id: retried.body.id, status: 'landed' });
    expect(await holders(d, ['a.txt'])).toEqual([]);
    expect((await jobRecord(d, a)).landing.reservation_id).toBeNull();
  });

  it('refuses a retry while another run holds overlapping symbols, naming the holder, and never lands over it', async () => {
    const { d, repo, a, failed, ok, go } = await failedEntry();
    writeFileSync(go, '');
    const person = (await api(d.url, 'POST', '/coord/reserve', { run_id: 'person', symbols: ['a.txt'] })).body;
    expect(person.granted).toBe(true);

    const refused = await api(d.url, 'POST', `/merge-queue/${failed.id}/retry`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('reserved');
    expect(refused.body.error.message).toMatch(/a\.txt.*run person/);
    expect(refused.body.error.holders).toMatchObject([{ run_id: 'person', symbols: ['a.txt'] }]);
    // Nothing was queued, nothing landed, and the holder keeps its reservation.
    expect((await api(d.url, 'GET', '/merge-queue')).body.entries.map((e: any) => [e.id, e.status])).toEqual([[failed.id, 'failed_check']]);
    expect(git(repo.dir, 'log', '--format=%s', 'main')).toBe('initial');
    expect(await holders(d, ['a.txt'])).toEqual(['person']);

    await api(d.url, 'POST', '/coord/release', { run_id: 'person', reservation_id: person.reservation_id });
    // Once free, the retry takes them; still red, it fails again and gives them back again.
    const redAgain = await api(d.url, 'POST', `/merge-queue/${failed.id}/retry`);
    expect(redAgain.status).toBe(202);
    expect(await holders(d, ['a.txt'])).toEqual([a]);
    expect((await waitSettled(d, a)).status).toBe('failed_check');
    expect(await holders(d, ['a.txt'])).toEqual([]);

    writeFileSync(ok, '');
    expect((await api(d.url, 'POST', `/merge-queue/${redAgain.body.id}/retry`)).status).toBe(202);
    expect((await waitSettled(d, a)).status).toBe('landed');
    expect(await holders(d, ['a.txt'])).toEqual([]);
  });
});
