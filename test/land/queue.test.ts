import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { colonyJson } from '../helpers/cli.js';
import { TEST_TOKEN } from '../helpers/daemon.js';
import { api, git, jobRecord, makeLandRepo, startLandDaemon, submit, waitJob, waitSettled, waitUntil } from './helpers.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function setup(files?: Record<string, string>) {
  const repo = makeLandRepo(files);
  cleanups.push(repo.cleanup);
  return repo;
}

describe('merge queue', { timeout: 240_000 }, () => {
  it('lands two jobs editing different files, in queue order, without touching the working tree', async () => {
    const repo = setup();
    // The person's own uncommitted work, which nothing may touch.
    writeFileSync(join(repo.dir, 'README.md'), '# my uncommitted edit\n');
    writeFileSync(join(repo.dir, 'scratch.txt'), 'untracked\n');
    const statusBefore = git(repo.dir, 'status', '--porcelain');
    const d = await startLandDaemon(repo.dir);
    cleanups.push(() => d.close());

    const a = await submit(d, { prompt: 'first [write:a.txt=one]', land: true });
    // The second through the CLI, as a person would.
    const viaCli = await colonyJson(['run', 'second [write:b.txt=two]', '--land', '--repo', repo.dir], repo.dir, { COLONY_TOKEN: TEST_TOKEN });
    const b = viaCli.job_id as string;
    const ea = await waitSettled(d, a);
    const eb = await waitSettled(d, b);
    expect(ea.status).toBe('landed');
    expect(eb.status).toBe('landed');

    const log = git(repo.dir, 'log', '--format=%H %s', 'main').split('\n');
    expect(log[0]).toBe(`${eb.landed_commit} colony: ${b}`);
    expect(log[1]).toBe(`${ea.landed_commit} colony: ${a}`);
    expect(git(repo.dir, 'show', 'main:a.txt')).toBe('one');
    expect(git(repo.dir, 'show', 'main:b.txt')).toBe('two');
    // The working tree, its branch and its uncommitted changes are as they were.
    expect(git(repo.dir, 'status', '--porcelain')).toBe(statusBefore);
    expect(git(repo.dir, 'symbolic-ref', '--short', 'HEAD')).toBe('work');
    expect(readFileSync(join(repo.dir, 'README.md'), 'utf8')).toBe('# my uncommitted edit\n');
    expect(existsSync(join(repo.dir, 'a.txt'))).toBe(false);

    const rec = await jobRecord(d, a);
    expect(rec.landing.entry).toMatchObject({ status: 'landed', landed_commit: ea.landed_commit, target: 'main' });
    const q = await api(d.url, 'GET', '/merge-queue');
    expect(q.body.target).toBe('main');
    expect(q.body.entries.map((e: any) => e.job_id)).toEqual([b, a]);
  });

  it('lands onto a checked-out target by updating its clean working tree, and pauses while that tree has uncommitted changes (integrate.auto)', async () => {
    const repo = setup();
    git(repo.dir, 'switch', '-q', 'main');
    // No target configured: the branch checked out at start, main.
    const d = await startLandDaemon(repo.dir, { target: undefined, auto: true });
    cleanups.push(() => d.close());
    // auto: every completed job with commits is queued; one without commits is not.
    const none = await submit(d, { prompt: 'no edits' });
    const a = await submit(d, { prompt: '[write:a.txt=one]' });
    expect((await waitJob(d.url, none)).status).toBe('completed');
    expect((await jobRecord(d, none)).landing?.entry ?? null).toBeNull();
    const first = await waitSettled(d, a);
    expect(first.status).toBe('landed');
    // The branch and the working tree moved together: the landed file is there, nothing is pending.
    expect(git(repo.dir, 'rev-parse', 'HEAD')).toBe(first.landed_commit);
    expect(readFileSync(join(repo.dir, 'a.txt'), 'utf8')).toBe('one\n');
    expect(git(repo.dir, 'status', '--porcelain')).toBe('');

    // An uncommitted edit: the queue pauses rather than touch the tree, and says why.
    writeFileSync(join(repo.dir, 'README.md'), '# my uncommitted edit\n');
    const mainBefore = git(repo.dir, 'rev-parse', 'main');
    const b = await submit(d, { prompt: '[write:b.txt=two]' });
    const blocked = await waitUntil(async () => (await api(d.url, 'GET', '/merge-queue')).body.blocked, 90_000, 'the queue to say it is blocked');
    expect(blocked).toMatch(/'main' is checked out in .* with uncommitted changes \(README\.md\)/);
    expect((await jobRecord(d, b)).landing.entry.status).toBe('queued');
    expect(git(repo.dir, 'rev-parse', 'main')).toBe(mainBefore);
    expect(readFileSync(join(repo.dir, 'README.md'), 'utf8')).toBe('# my uncommitted edit\n');
    expect(existsSync(join(repo.dir, 'b.txt'))).toBe(false);

    // Stashed away: the queue continues by itself, and the edit comes back intact.
    git(repo.dir, 'stash', '-q');
    const e = await waitSettled(d, b);
    expect(e.status).toBe('landed');
    expect(git(repo.dir, 'rev-parse', 'main^')).toBe(mainBefore);
    expect(readFileSync(join(repo.dir, 'b.txt'), 'utf8')).toBe('two\n');
    git(repo.dir, 'stash', 'pop', '-q');
    expect(readFileSync(join(repo.dir, 'README.md'), 'utf8')).toBe('# my uncommitted edit\n');
    expect((await api(d.url, 'GET', '/merge-queue')).body.blocked).toBeNull();

    git(repo.dir, 'checkout', '--', 'README.md');
    // An untracked file the landed work would overwrite: git refuses, the queue waits for the
    // tree to change (it does not test the same candidate again meanwhile), then lands.
    writeFileSync(join(repo.dir, 'c.txt'), 'mine, untracked\n');
    const c = await submit(d, { prompt: '[write:c.txt=three]' });
    const refusedTree = await waitUntil(async () => (await api(d.url, 'GET', '/merge-queue')).body.blocked, 90_000, 'the queue to say the tree refused');
    expect(refusedTree).toMatch(/working tree refused the landed work \(.*c\.txt.*\)/s);
    expect(readFileSync(join(repo.dir, 'c.txt'), 'utf8')).toBe('mine, untracked\n');
    expect((await jobRecord(d, c)).landing.entry.status).toBe('queued');
    // Two retry periods later the candidate was still tested only once.
    await new Promise((r) => setTimeout(r, 4500));
    const entryC = (await api(d.url, 'GET', '/merge-queue')).body.entries.find((e: any) => e.job_id === c);
    expect(entryC).toMatchObject({ status: 'queued', tries: 1 });
    rmSync(join(repo.dir, 'c.txt'));
    expect((await waitSettled(d, c)).status).toBe('landed');
    expect(readFileSync(join(repo.dir, 'c.txt'), 'utf8')).toBe('three\n');

    // Nothing to land is a clear refusal.
    const refused = await api(d.url, 'POST', `/jobs/${none}/land`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/made no commits/);
  });

  it('validates what a job asks for before queueing it', async () => {
    const repo = setup();
    const d = await startLandDaemon(repo.dir);
    cleanups.push(() => d.close());
    const bad = await api(d.url, 'POST', '/execute', { prompt: 'x', reserve: ['/etc/passwd'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/relative to the repository root/);
    expect((await api(d.url, 'POST', '/execute', { prompt: 'x', land: 'yes' })).status).toBe(400);
    expect((await api(d.url, 'POST', '/execute', { prompt: 'x', task_id: 'task_nope' })).status).toBe(404);
    expect((await api(d.url, 'POST', '/jobs/job_nope/land')).status).toBe(404);
    expect((await api(d.url, 'POST', '/merge-queue/land_nope/retry')).status).toBe(404);
    expect((await api(d.url, 'GET', '/merge-queue?status=bogus')).status).toBe(400);
    expect((await api(d.url, 'GET', '/jobs?limit=5')).body.jobs).toEqual([]);
  });
});
