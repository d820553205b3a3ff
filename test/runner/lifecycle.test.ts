import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Daemon } from '../../src/daemon/daemon.js';
import { ManualClock } from '../../src/lib/clock.js';
import { api, startTestDaemon, waitJob, waitUntil } from '../helpers/daemon.js';
import { git, makeTempRepo, tempDir } from '../helpers/repo.js';
import { alive } from '../helpers/cli.js';

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(overrides: Record<string, unknown> = {}): Promise<{ d: Daemon; repo: string; tmp: string }> {
  const repo = makeTempRepo({ 'README.md': '# r\n', 'src/a.ts': 'export const a = 1;\n' });
  const t = tempDir();
  const d = await startTestDaemon(repo.dir, overrides);
  cleanups.push(repo.cleanup, t.cleanup, () => d.close());
  return { d, repo: repo.dir, tmp: t.dir };
}

const submit = async (d: Daemon, prompt: string, extra: Record<string, unknown> = {}): Promise<string> => {
  const r = await api(d.url, 'POST', '/execute', { prompt, ...extra });
  expect(r.status).toBe(202);
  return r.body.job_id;
};


describe('runner lifecycle (real daemon, real git, fake claude)', () => {
  it('runs two jobs at once, each in its own workspace and branch', async () => {
    const { d, tmp, repo } = await setup({ max_concurrency: 2 });
    const ids = [];
    for (const n of [1, 2]) {
      ids.push(await submit(d, `job ${n} [started:${tmp}/s${n}] [env:${tmp}/e${n}] [block:${tmp}/go]`));
    }
    // Both are running at the same time: each wrote its start file while the other blocks.
    await waitUntil(() => existsSync(`${tmp}/s1`) && existsSync(`${tmp}/s2`), 20_000, 'both jobs to start');
    const h = await api(d.url, 'GET', '/health');
    expect(h.body).toMatchObject({ active: 2, queued: 0, capacity: 2, busy: true });
    writeFileSync(`${tmp}/go`, '');
    const jobs = await Promise.all(ids.map((id) => waitJob(d.url, id)));
    expect(jobs.map((j) => j.status)).toEqual(['completed', 'completed']);
    const e1 = JSON.parse(readFileSync(`${tmp}/e1`, 'utf8'));
    const e2 = JSON.parse(readFileSync(`${tmp}/e2`, 'utf8'));
    expect(e1.cwd).not.toBe(e2.cwd);
    expect(e1.cwd.startsWith(repo)).toBe(true);
    expect(e1.env.COLONY_JOB_ID).toBe(ids[0]);
    expect(e1.env.COLONY_RUN_ID).toBe(ids[0]);
    expect(e1.env.COLONY_URL).toBe(d.url);
    expect(jobs.map((j) => j.branch)).toEqual([`colony/${ids[0]}`, `colony/${ids[1]}`]);
    expect(jobs[0].result).toContain('done: job 1');
    expect(jobs[0].usage).toMatchObject({ input_tokens: 11, output_tokens: 7, total_cost_usd: 0.0012 });
    // Successful workspaces are removed (just after the final status is recorded).
    await waitUntil(() => !existsSync(e1.cwd) && !existsSync(e2.cwd), 10_000, 'workspaces to be removed');
  });

  it('with capacity 1 keeps the second job queued until the first ends, then 429s once running + waiting reach the depth', async () => {
    const { d, tmp } = await setup({ max_concurrency: 1, max_queue_depth: 2 });
    const first = await submit(d, `first [started:${tmp}/s1] [block:${tmp}/go]`);
    await waitUntil(() => existsSync(`${tmp}/s1`), 20_000, 'first job to start');
    const second = await api(d.url, 'POST', '/execute', { prompt: 'second' });
    expect(second.body).toMatchObject({ status: 'queued', position: 0 });
    const queued = await api(d.url, 'GET', `/jobs/${second.body.job_id}`);
    expect(queued.body).toMatchObject({ status: 'queued', position: 1 });
    const third = await api(d.url, 'POST', '/execute', { prompt: 'third' });
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('queue_full');
    expect(third.body.error.message).toMatch(/1 running \+ 1 waiting reach max_queue_depth \(2 jobs in flight\)/);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    // Refused work leaves no row behind.
    expect((await api(d.url, 'GET', '/jobs?limit=10')).body.jobs).toHaveLength(2);
    expect((await api(d.url, 'GET', `/jobs/${second.body.job_id}`)).body.status).toBe('queued');
    writeFileSync(`${tmp}/go`, '');
    expect((await waitJob(d.url, first)).status).toBe('completed');
    expect((await waitJob(d.url, second.body.job_id)).status).toBe('completed');
  });

  it('counts the timeout from running, not from the queue wait', async () => {
    const { d, tmp } = await setup({ max_concurrency: 1 });
    const blocker = await submit(d, `blocker [started:${tmp}/s] [block:${tmp}/go]`);
    await waitUntil(() => existsSync(`${tmp}/s`), 20_000, 'blocker to start');
    // Room enough for the fake agent to start on a loaded machine, less than the queue wait.
    const patient = await submit(d, 'patient', { timeout_s: 3 });
    // The patient job waits in the queue for longer than its own timeout.
    await new Promise((r) => setTimeout(r, 3500));
    writeFileSync(`${tmp}/go`, '');
    await waitJob(d.url, blocker);
    expect((await waitJob(d.url, patient)).status).toBe('completed');
    const slow = await submit(d, 'slow [sleep:20000]', { timeout_s: 1 });
    const j = await waitJob(d.url, slow);
    expect(j.status).toBe('timed_out');
    expect(j.error).toMatch(/timed out after 1 s/);
  });

  it('cancels a queued job and a running one, leaving no process of its group alive', async () => {
    const { d, tmp } = await setup({ max_concurrency: 1 });
    const running = await submit(d, `run [started:${tmp}/s] [grandchild:${tmp}/gc] [ignore-term] [block:${tmp}/never]`);
    const queued = await submit(d, 'waits');
    await waitUntil(() => existsSync(`${tmp}/s`) && existsSync(`${tmp}/gc`), 20_000, 'agent and grandchild');
    const agentPid = Number(readFileSync(`${tmp}/s`, 'utf8'));
    const grandchild = Number(readFileSync(`${tmp}/gc`, 'utf8'));
    expect(alive(agentPid) && alive(grandchild)).toBe(true);

    const c1 = await api(d.url, 'POST', `/jobs/${queued}/cancel`);
    expect(c1.body).toEqual({ job_id: queued, status: 'cancelled' });
    const c2 = await api(d.url, 'POST', `/jobs/${running}/cancel`);
    expect(c2.status).toBe(200);
    const j = await waitJob(d.url, running);
    expect(j.status).toBe('cancelled');
    // The agent ignored SIGTERM: SIGKILL after the grace took the whole group.
    await waitUntil(() => !alive(agentPid) && !alive(grandchild), 10_000, 'process group to die');
    const again = await api(d.url, 'POST', `/jobs/${running}/cancel`);
    expect(again.status).toBe(409);
  });

  it('records the branch, commits and diff stat of a job that edits files, fetched into the base', async () => {
    const { d, repo } = await setup();
    const id = await submit(d, 'edit things [edit:src/a.ts] [commit:NEW.md]');
    const j = await waitJob(d.url, id);
    expect(j.status).toBe('completed');
    expect(j.branch).toBe(`colony/${id}`);
    // One commit by the agent, one by the runner for what it left uncommitted.
    expect(j.commits).toHaveLength(2);
    expect(j.diff_stat).toEqual({ files: 2, insertions: 2, deletions: 0 });
    expect(git(repo, 'log', '--format=%s', `colony/${id}`).split('\n').slice(0, 2)).toEqual([`colony: ${id}`, 'agent commit']);
    expect(git(repo, 'show', `colony/${id}:src/a.ts`)).toContain(`edited by ${id}`);
    // The base working tree is untouched.
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('commits what the agent left without signing it, even when the user\'s git config signs commits', async () => {
    const { d, repo, tmp } = await setup();
    // A signer that always fails, as a gpg waiting for a passphrase nobody types would.
    writeFileSync(join(tmp, 'gitconfig'), '[commit]\n\tgpgsign = true\n[gpg]\n\tprogram = false\n');
    const saved = process.env.GIT_CONFIG_GLOBAL;
    process.env.GIT_CONFIG_GLOBAL = join(tmp, 'gitconfig');
    cleanups.push(() => void (saved === undefined ? delete process.env.GIT_CONFIG_GLOBAL : (process.env.GIT_CONFIG_GLOBAL = saved)));
    const id = await submit(d, 'edit [edit:src/a.ts]');
    const j = await waitJob(d.url, id);
    expect(j.status, j.error ?? '').toBe('completed');
    expect(git(repo, 'log', '-1', '--format=%s', `colony/${id}`)).toBe(`colony: ${id}`);
  });

  it('evicts finished jobs after job_ttl and never queued or running ones', async () => {
    const clock = new ManualClock(Date.now());
    const repo = makeTempRepo();
    const t = tempDir();
    const { loadConfig } = await import('../../src/daemon/config.js');
    const { startDaemon } = await import('../../src/daemon/daemon.js');
    const { silentLogger } = await import('../../src/lib/log.js');
    const { fakeAgents, TEST_TOKEN } = await import('../helpers/daemon.js');
    const config = loadConfig(repo.dir, { port: 0, token: TEST_TOKEN, agents: fakeAgents(), job_ttl: 60, max_concurrency: 1 }, {});
    const d = await startDaemon({ config, clock, logger: silentLogger() });
    cleanups.push(repo.cleanup, t.cleanup, () => d.close());
    const done = await submit(d, 'quick');
    await waitJob(d.url, done);
    const running = await submit(d, `long [started:${t.dir}/s] [block:${t.dir}/go]`);
    const queued = await submit(d, 'queued');
    await waitUntil(() => existsSync(`${t.dir}/s`), 20_000, 'long job to start');
    clock.advance(59_000);
    expect(d.runner.evictExpired()).toBe(0);
    clock.advance(2_000);
    expect(d.runner.evictExpired()).toBe(1);
    expect((await api(d.url, 'GET', `/jobs/${done}`)).status).toBe(404);
    expect((await api(d.url, 'GET', `/jobs/${running}`)).body.status).toBe('running');
    expect((await api(d.url, 'GET', `/jobs/${queued}`)).body.status).toBe('queued');
    writeFileSync(join(t.dir, 'go'), '');
    await waitJob(d.url, queued);
  });
});
