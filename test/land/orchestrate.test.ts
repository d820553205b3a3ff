import { afterEach, describe, expect, it } from 'vitest';
import { jobRecord, makeLandRepo, startLandDaemon, submit, waitJob, git } from './helpers.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(overrides: Record<string, unknown> = {}) {
  const repo = makeLandRepo();
  cleanups.push(repo.cleanup);
  const d = await startLandDaemon(repo.dir, {}, { max_concurrency: 3, ...overrides });
  cleanups.push(() => d.close());
  return { repo, d };
}

describe('jobs agents start (MCP job_* tools through the stdio bridge)', { timeout: 240_000 }, () => {
  it('an agent submits two children, waits for them, and each child records its parent', async () => {
    const { repo, d } = await setup();
    const parent = await submit(d, { prompt: '[spawn:{write:c1.txt=one}] [spawn:{write:c2.txt=two}] [wait-children]' });
    const done = await waitJob(d.url, parent, 90_000);
    expect(done.status, JSON.stringify(done)).toBe('completed');
    const kids = [...done.result.matchAll(/child (job_\S+) (\w+) parent=(\S+)/g)];
    expect(kids).toHaveLength(2);
    for (const [, id, status, p] of kids) {
      expect(status).toBe('completed');
      expect(p).toBe(parent);
      const rec = await jobRecord(d, id!);
      expect(rec.landing).toMatchObject({ parent_job_id: parent, depth: 2 });
      expect(rec.source).toBe('mcp');
    }
    expect(d.land.children(parent)).toEqual(kids.map((k) => k[1]));
    // The children's own work is on their branches.
    expect(git(repo.dir, 'show', `colony/${kids[0]![1]}:c1.txt`)).toBe('one');
  });

  it('refuses a runaway: more children than max_children, deeper than max_depth, with a clear error', async () => {
    const { d } = await setup({ orchestrate: { max_children: 2, max_depth: 2 } });
    const parent = await submit(d, { prompt: '[spawn-n:3] [wait-children]' });
    const done = await waitJob(d.url, parent, 90_000);
    expect(done.status, JSON.stringify(done)).toBe('completed');
    expect(done.result).toMatch(/refused: .*has already started 2 jobs, the limit \(orchestrate\.max_children\)/);
    // The third spawn was refused too; the two children ran.
    const kids = [...done.result.matchAll(/child (job_\S+) (\w+)/g)];
    expect(kids).toHaveLength(2);
    expect(d.land.children(parent)).toHaveLength(2);

    // A child may not start a grandchild when max_depth is 2.
    const p2 = await submit(d, { prompt: '[spawn:{spawn-n:1}] [wait-children]' });
    const d2 = await waitJob(d.url, p2, 90_000);
    const child = [...d2.result.matchAll(/child (job_\S+) (\w+)/g)][0]![1]!;
    const childRec = await waitJob(d.url, child, 90_000);
    expect(childRec.result).toMatch(/refused: .*jobs may start jobs at most 2 deep \(orchestrate\.max_depth\)/);
  });
});
