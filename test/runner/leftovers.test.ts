import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { api, startTestDaemon, waitJob } from '../helpers/daemon.js';
import { git, makeTempRepo } from '../helpers/repo.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(overrides: Record<string, unknown> = {}) {
  const repo = makeTempRepo({ 'README.md': '# r\n', 'src/a.ts': 'export const a = 1;\n' });
  cleanups.push(repo.cleanup);
  const d = await startTestDaemon(repo.dir, overrides);
  cleanups.push(() => d.close());
  return { d, repo: repo.dir };
}

const branches = (repo: string) => git(repo, 'branch', '--list', 'colony/*', '--format=%(refname:short)');

describe("the runner's commit of what the agent left", () => {
  it('is refused like the pre-commit hook when another run holds a touched file: the job fails naming the holder, no branch, workspace kept', async () => {
    const { d, repo } = await setup();
    const held = await api(d.url, 'POST', '/coord/reserve', { run_id: 'run-alice', symbols: ['src/a.ts'] });
    expect(held.body.granted).toBe(true);
    // The fake agent edits the reserved file without committing: only the runner's own commit could carry it.
    const started = await api(d.url, 'POST', '/execute', { prompt: 'touch it [edit:src/a.ts]' });
    const job = await waitJob(d.url, started.body.job_id);
    expect(job.status).toBe('failed');
    expect(job.error).toContain('run-alice');
    expect(job.error).toContain('src/a.ts');
    expect(job.branch).toBeNull();
    expect(branches(repo)).toBe('');
    const ws = join(repo, '.colony', 'workspaces', job.id);
    expect(existsSync(ws)).toBe(true);
    expect(git(ws, 'status', '--porcelain')).toContain('src/a.ts');

    // Its own reservation does not stand in its way, and a file nobody holds goes through.
    const free = await waitJob(d.url, (await api(d.url, 'POST', '/execute', { prompt: 'other file [edit:README.md]' })).body.job_id);
    expect(free.status).toBe('completed');
    expect(git(repo, 'show', `colony/${free.id}:README.md`)).toContain(`edited by ${free.id}`);
  });

  it("checks the agent's own commits too: one made with --no-verify over another run's reservation fails the job", async () => {
    const { d, repo } = await setup();
    expect((await api(d.url, 'POST', '/coord/reserve', { run_id: 'run-alice', symbols: ['src/a.ts'] })).body.granted).toBe(true);
    const job = await waitJob(d.url, (await api(d.url, 'POST', '/execute', { prompt: 'sneak [commit-no-verify:src/a.ts]' })).body.job_id);
    expect(job.status).toBe('failed');
    expect(job.error).toContain('run-alice');
    expect(job.error).toContain('src/a.ts');
    expect(branches(repo)).toBe('');
    // Its commit is there in the kept workspace, for a person to look at; nothing reached the base.
    expect(git(join(repo, '.colony', 'workspaces', job.id), 'log', '-1', '--format=%s')).toBe('agent commit');
  });

  it('leaves out files the setup command created, unless the agent changed them; tracked files setup changed stay tracked', async () => {
    const setupScript = 'mkdir -p gen && echo generated > gen/out.txt && echo log > setup.log && echo "[x]" > "odd [name].txt" && echo more >> README.md';
    const { d, repo } = await setup({ setup: setupScript });
    const id = (await api(d.url, 'POST', '/execute', { prompt: 'work [edit:gen/out.txt]' })).body.job_id;
    const job = await waitJob(d.url, id);
    expect(job.status, job.error).toBe('completed');
    const files = git(repo, 'ls-tree', '-r', '--name-only', `colony/${id}`).split('\n');
    expect(files).toEqual(expect.arrayContaining(['README.md', 'src/a.ts', 'gen/out.txt']));
    expect(files).not.toContain('setup.log');
    expect(files).not.toContain('odd [name].txt');
    expect(git(repo, 'show', `colony/${id}:gen/out.txt`)).toBe(`generated\nedited by ${id}`);
    expect(git(repo, 'show', `colony/${id}:README.md`)).toBe('# r\nmore');
  });
});
