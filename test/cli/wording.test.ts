import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { colony, colonyJson } from '../helpers/cli.js';
import { fakeAgents, spawnDaemon, stopProcess, waitUntil, writeColonyConfig } from '../helpers/daemon.js';
import { makeTempRepo, tempDir } from '../helpers/repo.js';

let repo: { dir: string; cleanup: () => void };
let scratch: { dir: string; cleanup: () => void };
let daemon: { child: ChildProcess; url: string };
const run = (args: string[]) => colony(args, repo.dir);

beforeAll(async () => {
  repo = makeTempRepo();
  scratch = tempDir();
  writeColonyConfig(repo.dir, { agents: fakeAgents(), kill_grace_ms: 500 });
  daemon = await spawnDaemon(repo.dir, [], { COLONY_TOKEN: '' });
});
afterAll(async () => {
  await stopProcess(daemon.child);
  repo.cleanup();
  scratch.cleanup();
});

describe('CLI wording', () => {
  it('counts in the singular for one: 1 candidate, 1 token, 1 reservation', async () => {
    expect((await run(['memory', 'add', 'hello'])).stdout).toMatch(/^stored \S+ \(1 token\)\n$/);
    const recall = await run(['memory', 'recall', 'hello', '--budget', '1']);
    expect(recall.stdout).toMatch(/\(1 of 1 token; 1 candidate\)\n$/);
    expect((await run(['memory', 'stats'])).stdout).toMatch(/^1 memory, 1 token;/);
    await run(['coord', 'reserve', 'src/one.ts', '--run', 'r1']);
    expect((await run(['coord', 'heartbeat', '--run', 'r1'])).stdout).toMatch(/\(1 reservation, 0 claims\)\n$/);
  });

  it('task ls shows what an open task waits on', async () => {
    const first = (await colonyJson(['task', 'add', 'write the parser', '--run', 'planner'], repo.dir)).task_id as string;
    const second = (await colonyJson(['task', 'add', 'test the parser', '--run', 'planner', '--after', first], repo.dir)).task_id as string;
    const ls = (await run(['task', 'ls'])).stdout;
    expect(ls).toMatch(new RegExp(`^${second}\\s+waits on ${first}\\s`, 'm'));
    expect(ls).toMatch(new RegExp(`^${first}\\s+ready\\s`, 'm'));
    await run(['task', 'claim', first, '--run', 'worker']);
    await run(['task', 'done', first, '--run', 'worker']);
    const after = (await run(['task', 'ls'])).stdout;
    expect(after).toMatch(new RegExp(`^${first}\\s+done\\s`, 'm'));
    expect(after).toMatch(new RegExp(`^${second}\\s+ready\\s`, 'm'));
  });

  it('jobs cancel prints the status the job ends in', async () => {
    const started = join(scratch.dir, 'started');
    const queued = await colonyJson(['run', `hold [started:${started}][block:${join(scratch.dir, 'never')}]`], repo.dir);
    await waitUntil(() => existsSync(started), 60_000, 'the agent to start');
    const r = await run(['jobs', 'cancel', queued.job_id]);
    expect(r).toMatchObject({ code: 0, stdout: `${queued.job_id} cancelled\n` });
  });

  it('jobs show names a branch only when the repository has it', async () => {
    const failed = await colony(['run', 'nothing', '--agent', 'missing', '--wait', '--json'], repo.dir);
    const job = JSON.parse(failed.stdout);
    expect(job).toMatchObject({ status: 'failed' });
    expect((await run(['jobs', 'show', job.id])).stdout).not.toMatch(/^branch/m);
    const done = JSON.parse((await run(['run', 'docs [edit:DOCS.md]', '--wait', '--json'])).stdout);
    expect((await run(['jobs', 'show', done.id])).stdout).toMatch(new RegExp(`^branch   colony/${done.id}$`, 'm'));
  });

  it('memory import names a file it cannot read instead of printing a system error', async () => {
    const missing = await run(['memory', 'import', join(scratch.dir, 'missing.jsonl')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`colony: cannot read ${join(scratch.dir, 'missing.jsonl')}: no such file or directory (give a JSON-lines file, or - for stdin)\n`);
    const dir = await run(['memory', 'import', scratch.dir]);
    expect(dir.stderr).toMatch(/it is a directory/);
  });
});
