import { join } from 'node:path';
import { api, FAKE_AGENTS, fakeAgents, startTestDaemon, waitUntil } from '../helpers/daemon.js';
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

export async function startSwarm(d: Daemon, body: Record<string, unknown>): Promise<string> {
  const r = await api(d.url, 'POST', '/swarms', body);
  if (r.status !== 202) throw new Error(`swarm refused: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.swarm_id;
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

export const taskByKey = (v: any, key: string): any => v.tasks.find((t: any) => t.key === key);
