import { join } from 'node:path';
import { api, FAKE_AGENTS, fakeAgents, startTestDaemon, waitJob as waitJobBase, waitUntil as waitUntilBase } from '../helpers/daemon.js';
import { git, makeTempRepo } from '../helpers/repo.js';
import type { Daemon } from '../../src/daemon/daemon.js';

export const LAND_AGENT = join(FAKE_AGENTS, 'land-agent.mjs');

/** The fake agents plus `land`, a command agent that edits files and talks MCP. */
export function landAgents(): Record<string, unknown> {
  return { ...fakeAgents(), land: { type: 'command', argv: [process.execPath, LAND_AGENT] } };
}

/**
 * A repository whose person works on branch `work`, with `main` (the queue's target) not
 * checked out anywhere, as the README recommends.
 */
export function makeLandRepo(files: Record<string, string> = { 'README.md': '# test repo\n', 'shared.txt': 'base\n' }) {
  const repo = makeTempRepo(files);
  git(repo.dir, 'switch', '-q', '-c', 'work');
  return repo;
}

export async function startLandDaemon(repo: string, integrate: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}): Promise<Daemon> {
  return startTestDaemon(repo, {
    agents: landAgents(),
    default_agent: 'land',
    max_concurrency: 1,
    integrate: { target: 'main', ...integrate },
    ...overrides,
  });
}

export async function submit(d: Daemon, body: Record<string, unknown>): Promise<string> {
  const r = await api(d.url, 'POST', '/execute', body);
  if (r.status !== 202) throw new Error(`submit refused: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.job_id;
}

export async function jobRecord(d: Daemon, id: string): Promise<any> {
  return (await api(d.url, 'GET', `/jobs/${id}`)).body;
}

/** Wait until the job's latest merge-queue entry has settled (landed, conflicted, failed_check, removed). */
export async function waitSettled(d: Daemon, jobId: string, timeoutMs = 90_000): Promise<any> {
  await waitJob(d.url, jobId, timeoutMs);
  return waitUntil(
    async () => {
      const e = (await jobRecord(d, jobId)).landing?.entry;
      return e && !['queued', 'testing'].includes(e.status) ? e : undefined;
    },
    timeoutMs,
    `job ${jobId} to settle in the merge queue`,
  );
}

/** Waits sized for a loaded 2-core machine: each landing runs several jobs, git and checks. */
export const waitJob = (url: string, id: string, timeoutMs = 90_000): Promise<any> => waitJobBase(url, id, timeoutMs);
export const waitUntil = <T>(fn: () => T | Promise<T>, timeoutMs = 90_000, what?: string): Promise<T> => waitUntilBase(fn, timeoutMs, what);

export { api, git };
