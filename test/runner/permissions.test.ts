import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, fakeAgents, startTestDaemon, waitJob } from '../helpers/daemon.js';
import { makeTempRepo, tempDir } from '../helpers/repo.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('permission levels', () => {
  it('a job runs at its agent’s configured level, may ask for less, and is refused more with a clear 400', async () => {
    const repo = makeTempRepo();
    const t = tempDir();
    cleanups.push(repo.cleanup, t.cleanup);
    const agents = fakeAgents() as Record<string, Record<string, unknown>>;
    const d = await startTestDaemon(repo.dir, { agents: { ...agents, codex: { ...agents.codex, permissions: 'read_only' } } });
    cleanups.push(() => d.close());

    const run = async (body: Record<string, unknown>, name: string) => {
      const file = join(t.dir, name);
      const r = await api(d.url, 'POST', '/execute', { ...body, prompt: `go [env:${file}]` });
      expect(r.status).toBe(202);
      const job = await waitJob(d.url, r.body.job_id);
      expect(job.status, job.error).toBe('completed');
      return { job, seen: JSON.parse(readFileSync(file, 'utf8')) };
    };
    const byDefault = await run({ agent: 'claude' }, 'default.json');
    expect(byDefault.job.permissions).toBe('edit');
    expect(byDefault.seen.env.COLONY_PERMISSIONS).toBe('edit');
    expect(byDefault.seen.argv).toEqual(expect.arrayContaining(['--permission-mode', 'acceptEdits']));
    const lower = await run({ agent: 'claude', permissions: 'read_only' }, 'lower.json');
    expect(lower.seen.argv).toEqual(expect.arrayContaining(['--permission-mode', 'dontAsk']));
    const codex = await run({ agent: 'codex' }, 'codex.json');
    expect(codex.seen.sandbox).toBe('read-only');

    const tooMuch = await api(d.url, 'POST', '/execute', { prompt: 'x', agent: 'codex', permissions: 'edit' });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.error.message).toBe(
      "permissions 'edit' is more than agent 'codex' allows ('read_only'); raise agents.codex.permissions in .colony/config.json to allow it",
    );
    expect((await api(d.url, 'POST', '/execute', { prompt: 'x', agent: 'claude', permissions: 'full' })).status).toBe(400);
    expect((await api(d.url, 'POST', '/execute', { prompt: 'x', permissions: 'root' })).status).toBe(400);
  });
});
