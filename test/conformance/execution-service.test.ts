// Conformance: the agent-execution service's parallel-execution tests (seeds/002_*), each case
// ported by name, against a real daemon, real git clones and the fake `claude` CLI (a real
// executable) instead of the specification's patched subprocess and workspace seams.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import OpenAI from 'openai';
import type { Daemon } from '../../src/daemon/daemon.js';
import { ManualClock } from '../../src/lib/clock.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { loadConfig } from '../../src/daemon/config.js';
import { silentLogger } from '../../src/lib/log.js';
import { lockFor, WorkspaceManager } from '../../src/runner/workspace.js';
import { api, fakeAgents, startTestDaemon, TEST_TOKEN, waitJob, waitUntil } from '../helpers/daemon.js';
import { makeTempRepo, tempDir } from '../helpers/repo.js';

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(overrides: Record<string, unknown> = {}): Promise<{ d: Daemon; repo: string; tmp: string }> {
  const repo = makeTempRepo({ 'README.md': '# r\n' });
  const t = tempDir();
  const d = await startTestDaemon(repo.dir, overrides);
  cleanups.push(repo.cleanup, t.cleanup, () => d.close());
  return { d, repo: repo.dir, tmp: t.dir };
}

/** The ConcurrencyProbe: agents that record their start and block until released. */
const held = (tmp: string, n: number | string): string => `job ${n} [started:${tmp}/s${n}] [env:${tmp}/e${n}] [block:${tmp}/release]`;
const started = (tmp: string, n: number | string): boolean => existsSync(`${tmp}/s${n}`);
const release = (tmp: string): void => writeFileSync(`${tmp}/release`, '');

describe('execution service (seeds/002): parallel, independent execution', () => {
  it('test_execute_does_not_return_409_when_a_job_is_running', async () => {
    const { d, tmp } = await setup();
    const r1 = await api(d.url, 'POST', '/execute', { prompt: held(tmp, 1) });
    await waitUntil(() => started(tmp, 1), 30_000, 'the first job to run');
    const r2 = await api(d.url, 'POST', '/execute', { prompt: held(tmp, 2) });
    expect(r1.status).toBe(202);
    expect(r2.status).toBe(202);
    release(tmp);
    for (const r of [r1, r2]) expect((await waitJob(d.url, r.body.job_id, 30_000)).status).toBe('completed');
  });

  it('test_two_execute_jobs_run_concurrently', async () => {
    const { d, tmp } = await setup();
    const ids = [];
    for (const n of [1, 2]) ids.push((await api(d.url, 'POST', '/execute', { prompt: held(tmp, n) })).body.job_id);
    // Both started before either finished: neither can finish until released.
    await waitUntil(() => started(tmp, 1) && started(tmp, 2), 30_000, 'both jobs to start');
    for (const id of ids) expect((await api(d.url, 'GET', `/jobs/${id}`)).body.status).toBe('running');
    release(tmp);
    for (const id of ids) expect((await waitJob(d.url, id, 30_000)).status).toBe('completed');
  });

  it('test_safety_queue_blocks_beyond_capacity', async () => {
    const { d, tmp } = await setup({ max_concurrency: 1 });
    const r1 = await api(d.url, 'POST', '/execute', { prompt: held(tmp, 1) });
    await waitUntil(() => started(tmp, 1), 30_000, 'the first job to run');
    const r2 = await api(d.url, 'POST', '/execute', { prompt: held(tmp, 2) });
    // Give the second a chance to (not) start: capacity is 1.
    await new Promise((r) => setTimeout(r, 500));
    const onlyOneStarted = !started(tmp, 2);
    const job2 = (await api(d.url, 'GET', `/jobs/${r2.body.job_id}`)).body;
    release(tmp);
    expect(r1.status).toBe(202);
    expect(r2.status).toBe(202);
    expect(onlyOneStarted, '2nd job must wait while capacity is full').toBe(true);
    expect(job2.status).toBe('queued');
    expect((await waitJob(d.url, r2.body.job_id, 30_000)).status).toBe('completed');
  });

  it('test_two_chat_completions_run_concurrently', async () => {
    const { d, tmp } = await setup({ max_concurrency: 2 });
    const client = new OpenAI({ baseURL: `${d.url}/v1`, apiKey: TEST_TOKEN, maxRetries: 0 });
    const ask = (n: number) => client.chat.completions.create({ model: 'haiku', messages: [{ role: 'user', content: held(tmp, n) }] });
    const t1 = ask(1);
    const t2 = ask(2);
    await waitUntil(() => started(tmp, 1) && started(tmp, 2), 30_000, 'both chat calls to run');
    const bothRunning = started(tmp, 1) && started(tmp, 2);
    release(tmp);
    const [r1, r2] = await Promise.all([t1, t2]);
    expect(bothRunning).toBe(true);
    // The SDK resolves only on a 200 with a completion.
    expect(r1.choices[0]!.message.content).toContain('job 1');
    expect(r2.choices[0]!.message.content).toContain('job 2');
  });

  it('test_two_chat_completions_run_concurrently (a completion past capacity waits in the queue, then answers 200)', async () => {
    const { d, tmp } = await setup({ max_concurrency: 1 });
    const client = new OpenAI({ baseURL: `${d.url}/v1`, apiKey: TEST_TOKEN, maxRetries: 0 });
    const first = client.chat.completions.create({ model: 'haiku', messages: [{ role: 'user', content: held(tmp, 1) }] });
    await waitUntil(() => started(tmp, 1), 30_000, 'the first completion to run');
    const second = client.chat.completions.create({ model: 'haiku', messages: [{ role: 'user', content: `job 2 [started:${tmp}/s2]` }] }).withResponse();
    await waitUntil(async () => ((await (await fetch(`${d.url}/health`)).json()) as any).queued === 1, 10_000, 'the second to queue');
    expect(started(tmp, 2)).toBe(false);
    release(tmp);
    const { data, response } = await second;
    expect(response.status).toBe(200);
    expect(data.choices[0]!.message.content).toContain('job 2');
    await first;
  });

  it('test_health_reports_capacity_fields', async () => {
    const { d } = await setup();
    const body = (await (await fetch(`${d.url}/health`)).json()) as any;
    expect(body.status).toBe('ok');
    expect(body.busy).toBe(false);
    expect(body.active).toBe(0);
    expect(body.queued).toBe(0);
    expect(body.capacity).toBe(10); // MAX_CONCURRENCY's default
  });

  it('test_each_job_gets_distinct_workspace', async () => {
    const { d, tmp } = await setup();
    const ids = [];
    for (const n of [1, 2]) ids.push((await api(d.url, 'POST', '/execute', { prompt: held(tmp, n) })).body.job_id);
    await waitUntil(() => existsSync(`${tmp}/e1`) && existsSync(`${tmp}/e2`), 30_000, 'both agents to report');
    const cwds = [1, 2].map((n) => JSON.parse(readFileSync(`${tmp}/e${n}`, 'utf8')));
    release(tmp);
    expect(new Set(cwds.map((e) => e.cwd)).size, 'each job should prepare its own workspace').toBe(2);
    expect(cwds.map((e) => e.env.COLONY_JOB_ID).sort()).toEqual([...ids].sort());
    for (const id of ids) await waitJob(d.url, id, 30_000);
  });

  it('test_queue_depth_rejection', async () => {
    // execution_semaphore = Semaphore(1), MAX_QUEUE_DEPTH = 2
    const { d, tmp } = await setup({ max_concurrency: 1, max_queue_depth: 2 });
    const r1 = await api(d.url, 'POST', '/execute', { prompt: held(tmp, 1) });
    await waitUntil(() => started(tmp, 1), 30_000, 'the first job to run');
    const r2 = await api(d.url, 'POST', '/execute', { prompt: 'b' });
    const r3 = await api(d.url, 'POST', '/execute', { prompt: 'c' });
    release(tmp);
    expect(r1.status).toBe(202); // active
    expect(r2.status).toBe(202); // queued
    expect(r2.body.status).toBe('queued');
    expect(r3.status).toBe(429); // over depth
    for (const r of [r1, r2]) await waitJob(d.url, r.body.job_id, 30_000);
  });

  it('test_evict_old_jobs_drops_finished_past_ttl', async () => {
    const clock = new ManualClock(Date.now());
    const repo = makeTempRepo();
    const t = tempDir();
    cleanups.push(repo.cleanup, t.cleanup);
    const config = loadConfig(repo.dir, { port: 0, token: TEST_TOKEN, agents: fakeAgents(), job_ttl: 60, max_concurrency: 1 }, {});
    const d = await startDaemon({ config, logger: silentLogger(), clock });
    cleanups.push(() => d.close());
    const old = (await api(d.url, 'POST', '/execute', { prompt: 'old' })).body.job_id;
    await waitJob(d.url, old, 30_000);
    clock.advance(99_999_000);
    const fresh = (await api(d.url, 'POST', '/execute', { prompt: 'fresh' })).body.job_id;
    await waitJob(d.url, fresh, 30_000);
    const running = (await api(d.url, 'POST', '/execute', { prompt: held(t.dir, 'r') })).body.job_id;
    await waitUntil(() => started(t.dir, 'r'), 30_000, 'the running job');
    const queued = (await api(d.url, 'POST', '/execute', { prompt: 'queued' })).body.job_id;
    d.runner.evictExpired();
    expect((await api(d.url, 'GET', `/jobs/${old}`)).status).toBe(404);
    for (const id of [fresh, running, queued]) expect((await api(d.url, 'GET', `/jobs/${id}`)).status).toBe(200);
    release(t.dir);
    await waitJob(d.url, queued, 30_000);
  });

  it('per-job workspace prepare/cleanup under a short git lock; the agent run holds none', async () => {
    const { d, repo, tmp } = await setup();
    const lock = lockFor(resolve(repo));
    // The agent runs outside the lock: while it blocks, the lock is free to take.
    const id = (await api(d.url, 'POST', '/execute', { prompt: held(tmp, 1) })).body.job_id;
    await waitUntil(() => started(tmp, 1), 30_000, 'the agent to run');
    const whileAgentRuns = await Promise.race([lock.run(async () => 'taken'), new Promise((r) => setTimeout(() => r('blocked'), 5000))]);
    expect(whileAgentRuns).toBe('taken');
    expect((await api(d.url, 'GET', `/jobs/${id}`)).body.status).toBe('running');

    // Preparing and cleaning up wait for it: hold the lock and neither proceeds.
    const root = tempDir();
    cleanups.push(root.cleanup);
    const wm = new WorkspaceManager({ baseRepo: repo, root: root.dir, logger: silentLogger(), keep: 'never' });
    let releaseLock!: () => void;
    const holding = lock.run(() => new Promise<void>((r) => (releaseLock = r)));
    let prepared = false;
    const preparing = wm.prepare({ jobId: 'job_locked' }).then((ws) => ((prepared = true), ws));
    await new Promise((r) => setTimeout(r, 1000));
    expect(prepared, 'prepare must wait for the per-base lock').toBe(false);
    expect(existsSync(`${root.dir}/job_locked`)).toBe(false);
    releaseLock();
    await holding;
    const ws = await preparing;
    const holding2 = lock.run(() => new Promise<void>((r) => (releaseLock = r)));
    let removed = false;
    const removing = wm.remove(ws, 'failure').then(() => (removed = true));
    await new Promise((r) => setTimeout(r, 500));
    expect(removed, 'cleanup must wait for the per-base lock').toBe(false);
    expect(existsSync(ws.dir)).toBe(true);
    releaseLock();
    await holding2;
    await removing;
    expect(existsSync(ws.dir)).toBe(false);
    release(tmp);
    expect((await waitJob(d.url, id, 30_000)).status).toBe('completed');
  });
});
