import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { api, daemonInfo, spawnDaemon, startTestDaemon, waitUntil } from '../helpers/daemon.js';
import { colonyPaths } from '../../src/daemon/paths.js';
import { alive } from '../helpers/cli.js';
import { makeTempRepo } from '../helpers/repo.js';
import type { ColonyProcess } from '../../bench/colony-process.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('one daemon per repository (an OS lock held for its lifetime)', () => {
  it('two daemons started together: exactly one serves, the other names it and exits; after kill -9 a new one starts', async () => {
    const repo = makeTempRepo();
    cleanups.push(repo.cleanup);
    const started = await Promise.allSettled([spawnDaemon(repo.dir), spawnDaemon(repo.dir)]);
    const winners = started.filter((s): s is PromiseFulfilledResult<ColonyProcess> => s.status === 'fulfilled').map((s) => s.value);
    for (const w of winners) cleanups.push(() => w.stop('SIGKILL'));
    const losers = started.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    const first = winners[0]!;
    expect(String(losers[0]!.reason)).toMatch(new RegExp(`already running for .*pid ${first.child.pid}`));
    expect((await api(first.url, 'GET', '/health')).status).toBe(200);

    // With daemon.json gone, the lock still refuses, naming the running daemon.
    await waitUntil(() => daemonInfo(repo.dir), 5000, 'daemon.json');
    rmSync(colonyPaths(repo.dir).daemonInfo);
    await expect(spawnDaemon(repo.dir)).rejects.toThrow(new RegExp(`already running .*pid ${first.child.pid}`));
    expect((await api(first.url, 'GET', '/health')).status).toBe(200);

    // kill -9: the kernel drops the lock with the process.
    await first.stop('SIGKILL');
    expect(alive(first.child.pid!)).toBe(false);
    const second = await spawnDaemon(repo.dir);
    cleanups.push(() => second.stop());
    expect((await api(second.url, 'GET', '/health')).status).toBe(200);
  }, 180_000);

  it('in one process too: a second start on the same repository is refused until the first closes', async () => {
    const repo = makeTempRepo();
    cleanups.push(repo.cleanup);
    const d1 = await startTestDaemon(repo.dir);
    cleanups.push(() => d1.close());
    await expect(startTestDaemon(repo.dir)).rejects.toThrow(/already running/);
    await d1.close();
    const d2 = await startTestDaemon(repo.dir);
    cleanups.push(() => d2.close());
    expect((await api(d2.url, 'GET', '/health')).status).toBe(200);
  }, 30_000);
});
