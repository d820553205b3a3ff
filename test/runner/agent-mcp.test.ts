import { afterEach, describe, expect, it } from 'vitest';
import { api, startTestDaemon, waitJob } from '../helpers/daemon.js';
import { makeTempRepo } from '../helpers/repo.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe("every job's agent has Colony's MCP tools without setup", () => {
  it.each(['claude', 'codex', 'gemini'])('%s: the agent calls memory_store through its own configuration, and the memory records the job', async (agent) => {
    const repo = makeTempRepo();
    cleanups.push(repo.cleanup);
    const d = await startTestDaemon(repo.dir);
    cleanups.push(() => d.close());
    const text = `${agent} learned that the flaky test needs a fixed seed`;
    const started = await api(d.url, 'POST', '/execute', { prompt: `note this [remember:${text}]`, agent });
    expect(started.status).toBe(202);
    const job = await waitJob(d.url, started.body.job_id, 30_000);
    expect(job.status, JSON.stringify(job)).toBe('completed');
    const stored = d.memory.list().memories.find((m) => m.text === text);
    expect(stored).toMatchObject({ run_id: started.body.job_id });
  });
});
