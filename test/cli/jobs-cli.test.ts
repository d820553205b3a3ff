import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { colony as run } from '../helpers/cli.js';
import { fakeAgents, spawnDaemon, writeColonyConfig, stopProcess } from '../helpers/daemon.js';

const colony = (args: string[], cwd: string) => run(args, cwd);
import { makeTempRepo, tempDir } from '../helpers/repo.js';


let repo: { dir: string; cleanup: () => void };
let daemon: { child: ChildProcess; url: string };
beforeAll(async () => {
  repo = makeTempRepo();
  writeColonyConfig(repo.dir, { agents: fakeAgents() });
  // The CLI reads the token from .colony/token like a person's shell would.
  daemon = await spawnDaemon(repo.dir, [], { COLONY_TOKEN: '' });
});
afterAll(async () => {
  await stopProcess(daemon.child);
  repo.cleanup();
});

describe('colony CLI against a real daemon', () => {
  it('run --wait --json prints the finished job', async () => {
    const r = await colony(['run', 'write docs [edit:DOCS.md]', '--wait', '--json'], repo.dir);
    expect(r.code).toBe(0);
    const job = JSON.parse(r.stdout);
    expect(job).toMatchObject({ status: 'completed', result: 'done: write docs [edit:DOCS.md]', diff_stat: { files: 1 } });
  });

  it('run --follow streams the events live, then prints the job', async () => {
    const r = await colony(['run', 'follow me', '--follow'], repo.dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\[queued\][\s\S]*\[running\][\s\S]*working on: follow me[\s\S]*\[completed\]/);
    expect(r.stdout).toMatch(/status\s+completed/);
  });

  it('jobs ls / show / logs / cancel, with --json', async () => {
    const queued = JSON.parse((await colony(['run', 'listed', '--json'], repo.dir)).stdout);
    expect(queued.job_id).toMatch(/^job_/);
    await colony(['run', 'x', '--wait'], repo.dir);
    const ls = JSON.parse((await colony(['jobs', 'ls', '--json', '--limit', '50'], repo.dir)).stdout);
    expect(ls.jobs.some((j: any) => j.id === queued.job_id)).toBe(true);
    const human = await colony(['jobs', 'ls'], repo.dir);
    expect(human.stdout).toMatch(/^ID\s+STATUS\s+AGENT/);
    const show = JSON.parse((await colony(['jobs', 'show', queued.job_id, '--json'], repo.dir)).stdout);
    expect(show.id).toBe(queued.job_id);
    const logs = await colony(['jobs', 'logs', queued.job_id, '--json'], repo.dir);
    expect(logs.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l).type)).toContain('status');
    const cancel = await colony(['jobs', 'cancel', queued.job_id], repo.dir);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toMatch(/^colony: job .* already completed\n$/);
    const missing = await colony(['jobs', 'show', 'job_nope'], repo.dir);
    expect(missing).toMatchObject({ code: 1, stderr: 'colony: no job job_nope\n' });
  });

  it('rejects bad flags and explains a missing daemon or repository without a stack trace', async () => {
    const bad = await colony(['jobs', 'ls', '--limit', 'lots'], repo.dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--limit must be a positive whole number/);
    const other = makeTempRepo();
    const noDaemon = await colony(['jobs', 'ls'], other.dir);
    expect(noDaemon.code).toBe(1);
    expect(noDaemon.stderr).toMatch(/no colony daemon running in .*colony serve/);
    other.cleanup();
    const plain = tempDir();
    const notGit = await colony(['serve'], plain.dir);
    expect(notGit.stderr).toMatch(/not a git repository/);
    plain.cleanup();
    const twice = await colony(['serve', '--port', '0'], repo.dir);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/already running/);
    expect(`${bad.stderr}${noDaemon.stderr}${notGit.stderr}`).not.toMatch(/    at /);
  });
});
