import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { api, FAKE_AGENTS, fakeAgents, startTestDaemon, waitUntil } from '../helpers/daemon.js';
import { tempDir } from '../helpers/repo.js';
import { makeLandRepo } from '../land/helpers.js';
import type { Daemon } from '../../src/daemon/daemon.js';

export const SWARM_AGENT = join(FAKE_AGENTS, 'swarm-agent.mjs');

/** The fake agents plus `swarm`, a command agent acting on directives in its prompt. */
export function swarmAgents(): Record<string, unknown> {
  return { ...fakeAgents(), swarm: { type: 'command', argv: [process.execPath, SWARM_AGENT] } };
}

/** A landing repository (person on `work`, queue onto `main`) and a daemon whose default agent is `swarm`. */
export async function startSwarmDaemon(overrides: Record<string, unknown> = {}, repoDir?: string): Promise<{ d: Daemon; repo: string; cleanup: () => void }> {
  const repo = repoDir ? { dir: repoDir, cleanup: () => undefined } : makeLandRepo();
  const d = await startTestDaemon(repo.dir, {
    agents: swarmAgents(),
    default_agent: 'swarm',
    max_concurrency: 3,
    integrate: { target: 'main' },
    shutdown_grace: 1,
    ...overrides,
  });
  return { d, repo: repo.dir, cleanup: repo.cleanup };
}

/**
 * The cleanups of a test file: an afterEach runs, last first, what each test pushed, so a
 * failed test still closes its daemons and removes its directories.
 */
export function useCleanups(): (() => unknown)[] {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return cleanups;
}

/** For a file of swarm tests: its cleanups, and `setup`, a swarm daemon (startSwarmDaemon) and a temp dir gone after each test. */
export function useSwarmDaemon(): {
  cleanups: (() => unknown)[];
  setup: (overrides?: Record<string, unknown>) => Promise<{ d: Daemon; repo: string; tmp: string }>;
} {
  const cleanups = useCleanups();
  const setup = async (overrides: Record<string, unknown> = {}): Promise<{ d: Daemon; repo: string; tmp: string }> => {
    const s = await startSwarmDaemon(overrides);
    cleanups.push(s.cleanup, () => s.d.close());
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    return { d: s.d, repo: s.repo, tmp: tmp.dir };
  };
  return { cleanups, setup };
}

export async function startSwarm(d: Daemon, body: Record<string, unknown>): Promise<string> {
  const r = await api(d.url, 'POST', '/swarms', body);
  if (r.status !== 202) throw new Error(`swarm refused: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.swarm_id;
}

/** `n` swarms, each cancelled at once (no job runs); their ids newest first. */
export async function cancelledSwarms(d: Daemon, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = await startSwarm(d, { tasks: [{ id: 'only', description: `swarm ${i}` }] });
    await api(d.url, 'POST', `/swarms/${id}/cancel`);
    ids.unshift(id);
  }
  return ids;
}

/** Wait for the swarm to end (sized for a loaded 2-core machine: every task is a job, git and a landing). */
export async function waitSwarm(d: Daemon, id: string, timeoutMs = 60_000): Promise<any> {
  return waitUntil(
    async () => {
      const v = (await api(d.url, 'GET', `/swarms/${id}`)).body;
      return ['completed', 'failed', 'cancelled'].includes(v.status) ? v : undefined;
    },
    timeoutMs,
    `swarm ${id} to end`,
  );
}

/**
 * Two tasks rewriting shared.txt, the second held until the first landed, so the second's
 * branch conflicts in the merge queue; returns the swarm's final view.
 */
export async function runConflictingPair(d: Daemon, tmp: string): Promise<any> {
  const go = join(tmp, 'go');
  const id = await startSwarm(d, {
    agents: 2,
    tasks: [
      { id: 'first', description: '[write:shared.txt=first]' },
      { id: 'second', description: `[block:${go}] [write:shared.txt=second]` },
    ],
  });
  await waitUntil(async () => taskByKey((await api(d.url, 'GET', `/swarms/${id}`)).body, 'first').state === 'landed', 60_000, 'first to land');
  writeFileSync(go, '');
  return waitSwarm(d, id);
}

export const taskByKey = (v: any, key: string): any => v.tasks.find((t: any) => t.key === key);

/**
 * A swarm of `agents: 2` whose merge-queue follow-up is due while both of its slots are busy:
 * `first` and `second` start together and both rewrite shared.txt; `holder` takes the slot
 * `first` frees, `third` the one `second` frees (both wait for `release`), and only then
 * does `second`'s entry conflict. `last` is ready all along, behind them by priority.
 * Returns once the swarm has taken the follow-up on as `second`'s next job; the follow-up
 * itself waits for `fu` (and is the only job that does).
 */
export async function startCrowdedConflict(d: Daemon, tmp: string): Promise<{ id: string; followUp: string; release: string; fu: string }> {
  const go = join(tmp, 'go');
  const release = join(tmp, 'release');
  const fu = join(tmp, 'fu');
  const id = await startSwarm(d, {
    agents: 2,
    max_attempts: 3,
    tasks: [
      { id: 'first', description: '[write:shared.txt=first]', priority: 4 },
      { id: 'second', description: `[block:${go}] [follow-up-block:${fu}] [write:shared.txt=second]`, priority: 3 },
      { id: 'holder', description: `[block:${release}] [write:holder.txt=holder]`, priority: 2 },
      { id: 'third', description: `[block:${release}] [write:third.txt=third]`, priority: 1 },
      { id: 'last', description: '[write:last.txt=last]', priority: 0 },
    ],
  });
  const view = async (): Promise<any> => (await api(d.url, 'GET', `/swarms/${id}`)).body;
  await waitUntil(async () => taskByKey(await view(), 'first').state === 'landed', 60_000, 'first to land');
  await waitUntil(async () => taskByKey(await view(), 'holder').state === 'running', 60_000, 'holder to start');
  writeFileSync(go, '');
  const second = await waitUntil(async () => {
    const t = taskByKey(await view(), 'second');
    return t.job_ids.length === 2 ? t : undefined;
  }, 60_000, "second's follow-up");
  return { id, followUp: second.job_id, release, fu };
}

/** The most jobs preparing or running at once, looked at on every job and swarm event. */
export function watchActiveJobs(d: Daemon, cleanups: (() => unknown)[]): { max: () => number } {
  let max = 0;
  const sample = (): void => {
    const active = (['preparing', 'running'] as const).reduce((n, status) => n + d.runner.list({ status, limit: 100 }).jobs.length, 0);
    max = Math.max(max, active);
  };
  cleanups.push(d.runner.subscribeAll(sample), d.swarms.subscribe(sample));
  return { max: () => max };
}
