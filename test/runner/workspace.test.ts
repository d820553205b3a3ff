import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync, symlinkSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { WorkspaceManager, parseShortStat } from '../../src/runner/workspace.js';
import { silentLogger } from '../../src/lib/log.js';
import { git, makeTempRepo, tempDir } from '../helpers/repo.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.reverse().forEach((c) => c());
  cleanups = [];
});

function setup(files?: Record<string, string>, keep?: 'on_failure' | 'always' | 'never') {
  const repo = makeTempRepo(files);
  const root = tempDir();
  cleanups.push(repo.cleanup, root.cleanup);
  return { base: repo.dir, root: root.dir, wm: new WorkspaceManager({ baseRepo: repo.dir, root: root.dir, logger: silentLogger(), keep }) };
}

describe('WorkspaceManager (real git)', () => {
  it('gives each job its own clone on its own branch, with objects hardlinked from the base', async () => {
    const { base, wm } = setup({ 'a.txt': 'a\n', 'dir/b.txt': 'b\n' });
    git(base, 'repack', '-a', '-d', '-q');
    const [w1, w2] = await Promise.all([wm.prepare({ jobId: 'job_1' }), wm.prepare({ jobId: 'job_2' })]);
    expect(w1.dir).not.toBe(w2.dir);
    expect(git(w1.dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('colony/job_1');
    expect(git(w2.dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('colony/job_2');
    expect(readFileSync(join(w1.dir, 'dir/b.txt'), 'utf8')).toBe('b\n');
    expect(w1.baseCommit).toBe(git(base, 'rev-parse', 'HEAD'));
    const pack = readdirSync(join(w1.dir, '.git/objects/pack')).find((f) => f.endsWith('.pack'))!;
    expect(statSync(join(w1.dir, '.git/objects/pack', pack)).nlink).toBeGreaterThan(1);
  });

  it('starts from base_ref, and refuses a ref that names no commit', async () => {
    const { base, wm } = setup();
    const first = git(base, 'rev-parse', 'HEAD');
    writeFileSync(join(base, 'later.txt'), 'x');
    git(base, 'add', '-A');
    git(base, 'commit', '-q', '-m', 'later');
    git(base, 'tag', 'v1', first);
    const ws = await wm.prepare({ jobId: 'job_ref', baseRef: 'v1' });
    expect(ws.baseCommit).toBe(first);
    expect(existsSync(join(ws.dir, 'later.txt'))).toBe(false);
    await expect(wm.prepare({ jobId: 'job_bad', baseRef: 'no-such-branch' })).rejects.toThrow(/does not name a commit/);
  });

  it('copies .colonyinclude files from the base, never anything outside it', async () => {
    const outside = tempDir();
    cleanups.push(outside.cleanup);
    writeFileSync(join(outside.dir, 'secret'), 'outside');
    const { base, wm } = setup({ '.gitignore': '.env\nconfig/local.json\nlink-out\n', '.colonyinclude': '.env\nconfig/local.json\nlink-out\n' });
    writeFileSync(join(base, '.env'), 'TOKEN=1\n');
    mkdirSync(join(base, 'config'));
    writeFileSync(join(base, 'config/local.json'), '{}');
    writeFileSync(join(base, 'not-included.txt'), 'no');
    symlinkSync(join(outside.dir, 'secret'), join(base, 'link-out'));
    const ws = await wm.prepare({ jobId: 'job_inc' });
    expect(readFileSync(join(ws.dir, '.env'), 'utf8')).toBe('TOKEN=1\n');
    expect(readFileSync(join(ws.dir, 'config/local.json'), 'utf8')).toBe('{}');
    expect(existsSync(join(ws.dir, 'not-included.txt'))).toBe(false);
    expect(existsSync(join(ws.dir, 'link-out'))).toBe(false);
  });

  it('runs the setup command in the workspace and fails clearly when it fails', async () => {
    const { wm, root } = setup();
    const ws = await wm.prepare({ jobId: 'job_setup', setup: ['sh', '-c', 'echo ready > setup-done'] });
    expect(readFileSync(join(ws.dir, 'setup-done'), 'utf8')).toBe('ready\n');
    await expect(wm.prepare({ jobId: 'job_setup_bad', setup: 'echo broken >&2; exit 4' })).rejects.toThrow(/exited with 4: broken/);
    // A failed preparation leaves no half-made workspace.
    expect(existsSync(join(root, 'job_setup_bad'))).toBe(false);
  });

  it('fails with a clear message when the base uses git-crypt and git-crypt is missing', async () => {
    const { base, wm } = setup({ '.git-crypt/.gitattributes': '*\n' });
    expect(existsSync(join(base, '.git-crypt'))).toBe(true);
    const oldPath = process.env.PATH;
    // Keep git reachable, hide everything else.
    const gitDir = git(base, '--exec-path');
    process.env.PATH = `${gitDir}:/usr/bin`.split(':').filter((p) => !existsSync(join(p, 'git-crypt'))).join(':');
    try {
      await expect(wm.prepare({ jobId: 'job_crypt' })).rejects.toThrow(/git-crypt is not found on PATH/);
    } finally {
      process.env.PATH = oldPath;
    }
  });

  it('commits what the agent left, fetches the branch into the base, and reports commits and diff stat', async () => {
    const { base, wm } = setup({ 'a.txt': 'one\ntwo\n' });
    const ws = await wm.prepare({ jobId: 'job_fin' });
    writeFileSync(join(ws.dir, 'a.txt'), 'one\nTWO\nthree\n');
    writeFileSync(join(ws.dir, 'new.txt'), 'new\n');
    const r = await wm.finish(ws, 'job_fin');
    expect(r.branch).toBe('colony/job_fin');
    expect(r.commits).toHaveLength(1);
    expect(r.diff_stat).toEqual({ files: 2, insertions: 3, deletions: 1 });
    expect(git(base, 'log', '-1', '--format=%s', 'colony/job_fin')).toBe('colony: job_fin');
    expect(git(base, 'rev-parse', 'colony/job_fin')).toBe(r.commits[0]);
    // Nothing left: no new commit, empty stat.
    const ws2 = await wm.prepare({ jobId: 'job_none' });
    expect(await wm.finish(ws2, 'job_none')).toEqual({ branch: 'colony/job_none', commits: [], diff_stat: { files: 0, insertions: 0, deletions: 0 } });
  });

  it('keeps failed workspaces under on_failure, removes them under never', async () => {
    const a = setup(undefined, 'on_failure');
    const w1 = await a.wm.prepare({ jobId: 'job_k1' });
    await a.wm.remove(w1, 'failure');
    expect(existsSync(w1.dir)).toBe(true);
    await a.wm.remove(w1, 'success');
    expect(existsSync(w1.dir)).toBe(false);
    const b = setup(undefined, 'never');
    const w2 = await b.wm.prepare({ jobId: 'job_k2' });
    await b.wm.remove(w2, 'failure');
    expect(existsSync(w2.dir)).toBe(false);
  });

  it('parses git shortstat', () => {
    expect(parseShortStat(' 3 files changed, 10 insertions(+), 2 deletions(-)\n')).toEqual({ files: 3, insertions: 10, deletions: 2 });
    expect(parseShortStat(' 1 file changed, 1 deletion(-)\n')).toEqual({ files: 1, insertions: 0, deletions: 1 });
    expect(parseShortStat('')).toEqual({ files: 0, insertions: 0, deletions: 0 });
  });
});
