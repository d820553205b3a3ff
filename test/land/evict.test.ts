import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/daemon/config.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { TEST_TOKEN } from '../helpers/daemon.js';
import { api, git, landAgents, makeLandRepo, submit, waitJob, waitSettled, waitUntil } from './helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('merge queue: job_ttl eviction', () => {
  it("forgets an evicted job's settled entry, events and landing metadata, and keeps an entry still queued until it has landed", async () => {
    const repo = makeLandRepo();
    cleanups.push(repo.cleanup);
    git(repo.dir, 'switch', '-q', 'main');
    // A clock the test moves: eviction happens exactly when the test says.
    const clock = new ManualClock(Date.now());
    const config = loadConfig(repo.dir, { port: 0, token: TEST_TOKEN, agents: landAgents(), default_agent: 'land', max_concurrency: 1, job_ttl: 60 }, {});
    const d = await startDaemon({ config, clock, logger: silentLogger() });
    cleanups.push(() => d.close());
    const a = await submit(d, { prompt: '[write:a.txt=one]', land: true, reserve: ['a.txt'] });
    expect((await waitSettled(d, a)).status).toBe('landed');
    // The next one waits: the checked-out target has an uncommitted change.
    writeFileSync(join(repo.dir, 'README.md'), '# edited\n');
    const b = await submit(d, { prompt: '[write:b.txt=two]', land: true });
    await waitJob(d.url, b);
    await waitUntil(async () => (await api(d.url, 'GET', '/merge-queue')).body.blocked, 30_000, 'the queue to pause');
    const eventsBefore = d.land.eventsSince(0).map((e) => e.job_id);
    expect(eventsBefore).toContain(a);
    expect(eventsBefore).toContain(b);

    clock.advance(61_000);
    expect(d.runner.evictExpired()).toBe(2);
    expect((await api(d.url, 'GET', `/jobs/${a}`)).status).toBe(404);
    expect((await api(d.url, 'GET', `/jobs/${b}`)).status).toBe(404);
    const q = (await api(d.url, 'GET', '/merge-queue')).body;
    expect(q.entries.map((e: any) => e.job_id)).toEqual([b]);
    const eventsAfter = d.land.eventsSince(0).map((e) => e.job_id);
    expect(eventsAfter).not.toContain(a);
    expect(eventsAfter).toContain(b);
    expect(d.land.describeJob(a)).toBeUndefined();

    // The queued entry still lands once the tree is clean; settled, it is forgotten too.
    git(repo.dir, 'checkout', '--', 'README.md');
    await waitUntil(
      async () => (await api(d.url, 'GET', '/merge-queue')).body.entries.length === 0,
      60_000,
      'the evicted job’s entry to land and be forgotten',
    );
    expect(git(repo.dir, 'show', 'HEAD:b.txt')).toBe('two');
    expect(git(repo.dir, 'show', 'HEAD~1:a.txt')).toBe('one');
    expect((await api(d.url, 'GET', '/merge-queue')).body.entries).toEqual([]);
    expect(d.land.eventsSince(0)).toEqual([]);
  });
});
