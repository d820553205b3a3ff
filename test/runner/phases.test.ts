import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Daemon } from '../../src/daemon/daemon.js';
import { ManualClock } from '../../src/lib/clock.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { loadConfig } from '../../src/daemon/config.js';
import { silentLogger } from '../../src/lib/log.js';
import { api, fakeAgents, startTestDaemon, TEST_TOKEN, waitJob, waitUntil } from '../helpers/daemon.js';
import { makeTempRepo, tempDir } from '../helpers/repo.js';
import { gone } from '../helpers/process.js';

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A setup command that starts a background sleeper in its group, records both pids, and waits. */
function hangingSetup(tmp: string): string {
  return `echo $$ > ${tmp}/setup-sh; sleep 600 & echo $! > ${tmp}/setup-sleep; wait`;
}

async function daemonWith(overrides: Record<string, unknown>): Promise<{ d: Daemon; repo: string; tmp: string }> {
  const repo = makeTempRepo({ 'README.md': '# r\n' });
  const t = tempDir();
  const d = await startTestDaemon(repo.dir, overrides);
  cleanups.push(repo.cleanup, t.cleanup, () => d.close());
  return { d, repo: repo.dir, tmp: t.dir };
}

const pids = (tmp: string): number[] => ['setup-sh', 'setup-sleep'].map((f) => Number(readFileSync(join(tmp, f), 'utf8')));

describe('every phase has a clock and leaves nothing behind (real daemon, real processes)', () => {
  it('cancelling a job during setup kills the setup command and everything it started', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const { d } = await daemonWith({ setup: hangingSetup(tmp.dir) });
    const id = (await api(d.url, 'POST', '/execute', { prompt: 'never runs' })).body.job_id;
    await waitUntil(() => existsSync(`${tmp.dir}/setup-sleep`), 20_000, 'setup to start its sleeper');
    const [sh, sleeper] = pids(tmp.dir);
    expect(gone(sh!) || gone(sleeper!)).toBe(false);
    expect((await api(d.url, 'GET', `/jobs/${id}`)).body.status).toBe('preparing');
    expect((await api(d.url, 'POST', `/jobs/${id}/cancel`)).status).toBe(200);
    const j = await waitJob(d.url, id);
    expect(j.status).toBe('cancelled');
    await waitUntil(() => gone(sh!) && gone(sleeper!), 10_000, 'setup processes to end');
  });

  it('fails a job whose setup outlives setup_timeout, naming the phase, and kills its process group', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const { d } = await daemonWith({ setup: hangingSetup(tmp.dir), setup_timeout: 1 });
    const id = (await api(d.url, 'POST', '/execute', { prompt: 'never runs' })).body.job_id;
    const j = await waitJob(d.url, id);
    expect(j.status).toBe('failed');
    expect(j.error).toMatch(/^setup command .* did not finish within 1 s \(setup_timeout\); its process group was killed$/);
    expect(j.running_at).toBeNull();
    const [sh, sleeper] = pids(tmp.dir);
    await waitUntil(() => gone(sh!) && gone(sleeper!), 10_000, 'setup processes to end');
  });

  it('removes a failed job’s kept workspace when job_ttl evicts the job, and at start a workspace no job owns', async () => {
    const clock = new ManualClock(Date.now());
    const repo = makeTempRepo();
    cleanups.push(repo.cleanup);
    const config = loadConfig(repo.dir, { port: 0, token: TEST_TOKEN, agents: fakeAgents(), job_ttl: 60 }, {});
    // A workspace left by a job that no longer exists (evicted while the daemon was down).
    const orphan = join(repo.dir, '.colony', 'workspaces', 'job_gone');
    mkdirSync(orphan, { recursive: true });
    writeFileSync(join(orphan, 'file'), 'x');
    const d = await startDaemon({ config, logger: silentLogger(), clock });
    cleanups.push(() => d.close());
    expect(existsSync(orphan)).toBe(false);

    const id = (await api(d.url, 'POST', '/execute', { prompt: 'fail [exit:3]' })).body.job_id;
    expect((await waitJob(d.url, id)).status).toBe('failed');
    const kept = join(repo.dir, '.colony', 'workspaces', id);
    // keep_workspace on_failure: the evidence stays while the job does.
    await waitUntil(() => existsSync(join(kept, 'README.md')), 10_000, 'the kept workspace');
    expect(d.runner.evictExpired()).toBe(0);
    expect(existsSync(kept)).toBe(true);
    clock.advance(61_000);
    expect(d.runner.evictExpired()).toBe(1);
    await waitUntil(() => !existsSync(kept), 10_000, 'the evicted job’s workspace to be removed');
    expect((await api(d.url, 'GET', `/jobs/${id}`)).status).toBe(404);
  });
});
