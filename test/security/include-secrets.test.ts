import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkspaceManager } from '../../src/runner/workspace.js';
import { silentLogger } from '../../src/lib/log.js';
import { git, makeTempRepo, tempDir } from '../helpers/repo.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.reverse().forEach((c) => c());
  cleanups = [];
});

describe('.colonyinclude never carries a secret onto a job branch', () => {
  it('skips .colony/ and links leaving the repository, follows links inside it, and never commits what it copied', async () => {
    const outside = tempDir();
    const repo = makeTempRepo({ 'README.md': '# r\n', '.colonyinclude': '.env\ntoken-link\nconf/\ncolony-dir\n' });
    const root = tempDir();
    cleanups.push(outside.cleanup, repo.cleanup, root.cleanup);
    const base = repo.dir;
    writeFileSync(join(outside.dir, 'secret'), 'outside-secret');
    mkdirSync(join(base, '.colony'));
    writeFileSync(join(base, '.colony', 'token'), 'API-TOKEN-SECRET');
    writeFileSync(join(base, '.env'), 'KEY=1\n');
    writeFileSync(join(base, 'shared.txt'), 'shared inside\n');
    // The attack from the issue: a link into .colony/ named in .colonyinclude.
    symlinkSync(join(base, '.colony', 'token'), join(base, 'token-link'));
    symlinkSync('.colony', join(base, 'colony-dir'));
    // Links inside an included directory are judged the same way.
    mkdirSync(join(base, 'conf'));
    writeFileSync(join(base, 'conf', 'app.json'), '{"a":1}');
    symlinkSync('../shared.txt', join(base, 'conf', 'inside-link'));
    symlinkSync(join(outside.dir, 'secret'), join(base, 'conf', 'outside-link'));
    symlinkSync('../.colony/token', join(base, 'conf', 'token-link'));

    const wm = new WorkspaceManager({ baseRepo: base, root: root.dir, logger: silentLogger() });
    const ws = await wm.prepare({ jobId: 'job_sec' });
    expect(readFileSync(join(ws.dir, '.env'), 'utf8')).toBe('KEY=1\n');
    expect(readFileSync(join(ws.dir, 'conf', 'app.json'), 'utf8')).toBe('{"a":1}');
    // Followed: the target is inside the repository; copied as a file.
    expect(readFileSync(join(ws.dir, 'conf', 'inside-link'), 'utf8')).toBe('shared inside\n');
    expect(lstatSync(join(ws.dir, 'conf', 'inside-link')).isSymbolicLink()).toBe(false);
    for (const skipped of ['token-link', 'colony-dir', 'conf/outside-link', 'conf/token-link']) {
      expect(existsSync(join(ws.dir, skipped)), skipped).toBe(false);
    }

    // The agent edits a tracked file; the runner commits everything it left.
    writeFileSync(join(ws.dir, 'README.md'), '# r\nedited\n');
    writeFileSync(join(ws.dir, 'new.txt'), 'agent work\n');
    const r = await wm.finish(ws, 'job_sec');
    expect(r.commits).toHaveLength(1);
    const files = git(base, 'ls-tree', '-r', '--name-only', 'colony/job_sec').split('\n');
    expect(files.sort()).toEqual(['.colonyinclude', 'README.md', 'new.txt']);
    const all = git(base, 'log', '-p', 'colony/job_sec');
    expect(all).not.toContain('API-TOKEN-SECRET');
    expect(all).not.toContain('KEY=1');
  });
});
