import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { api, spawnDaemon, waitJob, waitUntil, fakeAgents, writeColonyConfig } from '../helpers/daemon.js';
import { makeTempRepo, tempDir } from '../helpers/repo.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { gone } from '../helpers/process.js';
import { join } from 'node:path';

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

describe('durable jobs across a daemon crash (real `colony serve` processes)', () => {
  it('after kill -9, queued jobs run again in their original order and the running one is failed/interrupted', async () => {
    const repo = makeTempRepo();
    const t = tempDir();
    cleanups.push(repo.cleanup, t.cleanup);
    writeColonyConfig(repo.dir, { agents: fakeAgents(), max_concurrency: 1 });

    const first = await spawnDaemon(repo.dir);
    cleanups.push(() => stop(first.child, 'SIGKILL'));
    const running = (await api(first.url, 'POST', '/execute', { prompt: `hold [started:${t.dir}/s] [block:${t.dir}/go]` })).body.job_id;
    await waitUntil(() => existsSync(`${t.dir}/s`), 20_000, 'first job to run');
    const queued: string[] = [];
    for (let i = 0; i < 3; i++) queued.push((await api(first.url, 'POST', '/execute', { prompt: `queued ${i}` })).body.job_id);
    await stop(first.child, 'SIGKILL');
    // The orphaned agent of the killed daemon may finish now; it no longer matters.
    writeFileSync(`${t.dir}/go`, '');

    const second = await spawnDaemon(repo.dir);
    cleanups.push(() => stop(second.child, 'SIGTERM'));
    const lost = await api(second.url, 'GET', `/jobs/${running}`);
    expect(lost.body).toMatchObject({ status: 'failed', error: 'interrupted' });
    const done = await Promise.all(queued.map((id) => waitJob(second.url, id)));
    expect(done.map((j) => j.status)).toEqual(['completed', 'completed', 'completed']);
    const startOrder = [...done].sort((a, b) => a.running_at.localeCompare(b.running_at)).map((j) => j.id);
    expect(startOrder).toEqual(queued);
  });

  it('after kill -9, the next start kills the setup and agent process groups the dead daemon left running', async () => {
    const repo = makeTempRepo();
    const t = tempDir();
    cleanups.push(repo.cleanup, t.cleanup);
    // The first job to get the lock hangs in setup with a sleeper in its group; the other runs its agent.
    const setup = `if mkdir ${t.dir}/hang 2>/dev/null; then sleep 600 & echo $! > ${t.dir}/setup-sleep; wait; fi`;
    writeColonyConfig(repo.dir, { agents: fakeAgents(), max_concurrency: 2, setup });
    const first = await spawnDaemon(repo.dir);
    cleanups.push(() => stop(first.child, 'SIGKILL'));
    for (let i = 0; i < 2; i++) {
      await api(first.url, 'POST', '/execute', { prompt: `hold [started:${t.dir}/agent] [grandchild:${t.dir}/gc] [block:${t.dir}/never]` });
    }
    await waitUntil(
      () => existsSync(`${t.dir}/setup-sleep`) && existsSync(`${t.dir}/agent`) && existsSync(`${t.dir}/gc`),
      30_000,
      'one job in setup and one agent running',
    );
    const left = ['setup-sleep', 'agent', 'gc'].map((f) => Number(readFileSync(`${t.dir}/${f}`, 'utf8')));
    await stop(first.child, 'SIGKILL');
    // Nothing ends them but the next start: they outlive the daemon.
    await new Promise((r) => setTimeout(r, 300));
    expect(left.map(gone)).toEqual([false, false, false]);
    const second = await spawnDaemon(repo.dir);
    cleanups.push(() => stop(second.child, 'SIGTERM'));
    await waitUntil(() => left.every(gone), 10_000, 'the left-over process groups to be killed');
  });

  it('on SIGHUP (its terminal closed) shuts down as on SIGTERM: the running agent is stopped, not orphaned', async () => {
    const repo = makeTempRepo();
    const t = tempDir();
    cleanups.push(repo.cleanup, t.cleanup);
    writeColonyConfig(repo.dir, { agents: fakeAgents(), shutdown_grace: 1 });
    const d = await spawnDaemon(repo.dir);
    cleanups.push(() => stop(d.child, 'SIGKILL'));
    await api(d.url, 'POST', '/execute', { prompt: `hold [started:${t.dir}/s] [grandchild:${t.dir}/gc] [block:${t.dir}/never]` });
    await waitUntil(() => existsSync(`${t.dir}/s`) && existsSync(`${t.dir}/gc`), 20_000, 'the agent to run');
    const agent = Number(readFileSync(`${t.dir}/s`, 'utf8'));
    const grandchild = Number(readFileSync(`${t.dir}/gc`, 'utf8'));
    const exited = new Promise<[number | null, string | null]>((r) => d.child.once('exit', (code, signal) => r([code, signal])));
    d.child.kill('SIGHUP');
    expect(await exited).toEqual([0, null]);
    expect(d.stderr()).toMatch(/SIGHUP received, shutting down/);
    await waitUntil(() => gone(agent) && gone(grandchild), 10_000, 'the agent and its grandchild to be stopped');
    expect(existsSync(join(repo.dir, '.colony', 'colony.sock'))).toBe(false);
  });

  it('on SIGTERM stops taking work and leaves queued jobs for the next start', async () => {
    const repo = makeTempRepo();
    const t = tempDir();
    cleanups.push(repo.cleanup, t.cleanup);
    mkdirSync(join(repo.dir, '.colony'), { recursive: true });
    writeFileSync(
      join(repo.dir, '.colony', 'config.json'),
      JSON.stringify({ agents: fakeAgents(), max_concurrency: 1, shutdown_grace: 30 }),
    );
    const d = await spawnDaemon(repo.dir);
    cleanups.push(() => stop(d.child, 'SIGKILL'));
    const running = (await api(d.url, 'POST', '/execute', { prompt: `finish me [started:${t.dir}/s] [block:${t.dir}/go]` })).body.job_id;
    await waitUntil(() => existsSync(`${t.dir}/s`), 20_000, 'job to run');
    const waiting = (await api(d.url, 'POST', '/execute', { prompt: 'later' })).body.job_id;
    const exited = new Promise((r) => d.child.once('exit', r));
    d.child.kill('SIGTERM');
    // The running job gets its grace period to finish.
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(`${t.dir}/go`, '');
    await exited;
    const again = await spawnDaemon(repo.dir);
    cleanups.push(() => stop(again.child, 'SIGTERM'));
    expect((await api(again.url, 'GET', `/jobs/${running}`)).body.status).toBe('completed');
    expect((await waitJob(again.url, waiting)).status).toBe('completed');
  });
});
