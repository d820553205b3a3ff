import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { api, spawnDaemon, waitJob, waitUntil, fakeAgents, writeColonyConfig } from '../helpers/daemon.js';
import { makeTempRepo, tempDir } from '../helpers/repo.js';
import { mkdirSync } from 'node:fs';
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
