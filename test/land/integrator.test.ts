import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../../src/lib/sqlite.js';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { landMigrations } from '../../src/land/migrations.js';
import { LandStore } from '../../src/land/store.js';
import { MergeQueue } from '../../src/land/queue.js';
import { ScratchRepo } from '../../src/land/scratch.js';
import { Integrator } from '../../src/land/integrator.js';
import { integrateConfigSchema } from '../../src/land/config.js';
import type { Entry } from '../../src/land/types.js';
import { git, makeTempRepo, tempDir } from '../helpers/repo.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A repository with `n` branches off main, each adding one file; the person stays on `work`. */
function repoWithBranches(contents: string[]): { dir: string; heads: string[] } {
  const repo = makeTempRepo({ 'README.md': '# r\n' });
  cleanups.push(repo.cleanup);
  const heads = contents.map((text, i) => commitOnBranch(repo.dir, i, `f${i}.txt`, text));
  git(repo.dir, 'switch', '-q', '-c', 'work', 'main');
  return { dir: repo.dir, heads };
}

/** Branch `b<i>` off main with one commit ("branch <i>") writing `file`; returns its head. */
function commitOnBranch(dir: string, i: number, file: string, text: string): string {
  git(dir, 'switch', '-q', '-c', `b${i}`, 'main');
  writeFileSync(join(dir, file), text);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', `branch ${i}`);
  return git(dir, 'rev-parse', 'HEAD');
}

function integrator(repo: string, integrate: Record<string, unknown>) {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const db = openDatabase(join(tmp.dir, 'db'), { migrations: landMigrations });
  cleanups.push(() => db.close());
  const queue = new MergeQueue(new LandStore(db), systemClock);
  const settled: Entry[] = [];
  const integ = new Integrator({
    queue,
    scratch: new ScratchRepo(repo, join(tmp.dir, 'scratch')),
    config: integrateConfigSchema.parse(integrate),
    target: 'main',
    logger: silentLogger(),
    onSettled: (e) => settled.push(e),
  });
  cleanups.push(() => integ.stop());
  return { queue, integ, settled, tmp: tmp.dir };
}

describe('integrator', { timeout: 240_000 }, () => {
  it('tests a batch on one candidate, bisects a red one, lands the rest and rejects only the culprit', async () => {
    const contents = ['ok\n', 'ok\n', 'ok\n', 'ok\n', 'ok\n', 'broken\n', 'ok\n', 'ok\n'];
    const { dir, heads } = repoWithBranches(contents);
    const scratch = tempDir();
    cleanups.push(scratch.cleanup);
    const tmpCounter = join(scratch.dir, 'check-runs');
    const check = `echo run >> '${tmpCounter}'; if grep -l broken *.txt; then echo "the build is broken" >&2; exit 3; fi`;
    const { queue, integ, settled } = integrator(dir, { check, batch: 8, parallel_checks: 2 });
    const entries = heads.map((head, i) => queue.enqueue({ job_id: `job${i}`, branch: `b${i}`, head, target: 'main', attempt: 1 }));
    integ.kick();
    await integ.idle();

    const status = (i: number) => queue.get(entries[i]!.id).status;
    expect(contents.map((_, i) => status(i))).toEqual(['landed', 'landed', 'landed', 'landed', 'landed', 'failed_check', 'landed', 'landed']);
    const culprit = queue.get(entries[5]!.id);
    expect(culprit.evidence).toMatchObject({ kind: 'check', exit_code: 3 });
    expect(culprit.evidence!.output_tail).toContain('the build is broken');
    expect(culprit.evidence!.output_tail).toContain('f5.txt');
    // Everyone else's work is on main, in queue order; the culprit's is not.
    const files = git(dir, 'ls-tree', '--name-only', 'main').split('\n');
    expect(files).toEqual(['README.md', 'f0.txt', 'f1.txt', 'f2.txt', 'f3.txt', 'f4.txt', 'f6.txt', 'f7.txt']);
    expect(git(dir, 'log', '--format=%s', 'main').split('\n')).toEqual(['branch 7', 'branch 6', 'branch 4', 'branch 3', 'branch 2', 'branch 1', 'branch 0', 'initial']);
    // Landed entries record their own commit on main.
    expect(git(dir, 'rev-parse', 'main')).toBe(queue.get(entries[7]!.id).landed_commit);
    expect(git(dir, 'rev-parse', 'main~4')).toBe(queue.get(entries[2]!.id).landed_commit);
    // Fewer check runs than entries: the batch was tested together.
    const runs = readFileSync(tmpCounter, 'utf8').split('\n').filter(Boolean).length;
    expect(runs).toBeLessThan(contents.length);
    expect(settled.map((e) => e.status).sort()).toEqual([...Array(7).fill('landed'), 'failed_check'].sort());
  });

  it('lands with every strategy when the user\'s git config signs commits (the queue\'s own commits are never signed)', async () => {
    const { dir, heads } = repoWithBranches(['one\n', 'two\n', 'three\n']);
    // A global config that signs every commit with a signer that always fails, as a gpg
    // needing a passphrase nobody can type would in a daemon.
    const home = tempDir();
    cleanups.push(home.cleanup);
    const config = join(home.dir, 'gitconfig');
    writeFileSync(config, '[commit]\n\tgpgsign = true\n[gpg]\n\tprogram = false\n');
    const saved = process.env.GIT_CONFIG_GLOBAL;
    process.env.GIT_CONFIG_GLOBAL = config;
    cleanups.push(() => (saved === undefined ? delete process.env.GIT_CONFIG_GLOBAL : (process.env.GIT_CONFIG_GLOBAL = saved)));
    for (const [i, strategy] of (['rebase', 'merge', 'squash'] as const).entries()) {
      const { queue, integ } = integrator(dir, { strategy });
      const e = queue.enqueue({ job_id: `j${i}`, branch: `b${i}`, head: heads[i]!, target: 'main', attempt: 1 });
      integ.kick();
      await integ.idle();
      expect(queue.get(e.id), strategy).toMatchObject({ status: 'landed' });
      expect(git(dir, 'show', `main:f${i}.txt`)).toBe(['one', 'two', 'three'][i]);
    }
  });

  it('keeps a conflict\'s files and hunks as evidence and lands the entries around it', async () => {
    const { dir, heads } = repoWithBranches(['one\n', 'two\n']);
    // A third branch rewrites f0.txt differently from branch 0: it conflicts once b0 is in.
    const h2 = commitOnBranch(dir, 2, 'f0.txt', 'other\n');
    git(dir, 'switch', '-q', 'work');
    const { queue, integ } = integrator(dir, { batch: 4 });
    const e0 = queue.enqueue({ job_id: 'j0', branch: 'b0', head: heads[0]!, target: 'main', attempt: 1 });
    const e2 = queue.enqueue({ job_id: 'j2', branch: 'b2', head: h2, target: 'main', attempt: 1 });
    const e1 = queue.enqueue({ job_id: 'j1', branch: 'b1', head: heads[1]!, target: 'main', attempt: 1 });
    integ.kick();
    await integ.idle();
    expect(queue.get(e0.id).status).toBe('landed');
    expect(queue.get(e1.id).status).toBe('landed');
    const c = queue.get(e2.id);
    expect(c.status).toBe('conflicted');
    expect(c.evidence).toMatchObject({ kind: 'conflict', files: ['f0.txt'] });
    expect(c.evidence!.hunks).toMatch(/<<<<<<<[\s\S]*one[\s\S]*=======[\s\S]*other[\s\S]*>>>>>>>/);
    expect(git(dir, 'show', 'main:f0.txt')).toBe('one');
  });

  it('starts again from the new tip when a person moves the target between test and land', async () => {
    const { dir, heads } = repoWithBranches(['one\n']);
    const scratch = tempDir();
    cleanups.push(scratch.cleanup);
    const marker = join(scratch.dir, 'moved');
    // The first check run plays the person: it commits to main in the base while the entry is tested.
    const check =
      `if [ ! -e '${marker}' ]; then : > '${marker}'; ` +
      `c=$(git -C '${dir}' -c user.name=P -c user.email=p@x commit-tree -p refs/heads/main -m person 'refs/heads/main^{tree}'); ` +
      `git -C '${dir}' update-ref refs/heads/main "$c"; fi`;
    const { queue, integ } = integrator(dir, { check });
    const e = queue.enqueue({ job_id: 'j0', branch: 'b0', head: heads[0]!, target: 'main', attempt: 1 });
    integ.kick();
    await integ.idle();
    const done = queue.get(e.id);
    expect(done.status).toBe('landed');
    expect(done.tries).toBe(2);
    expect(git(dir, 'log', '--format=%s', 'main').split('\n')).toEqual(['branch 0', 'person', 'initial']);
    expect(git(dir, 'rev-parse', 'main')).toBe(done.landed_commit);
    const reasons = queue.eventsSince(0).map((ev) => ev.data.reason).filter(Boolean);
    expect(reasons.join('\n')).toMatch(/target moved/);
  });

  it('squash and merge strategies keep the branch as one commit or a merge', async () => {
    const { dir, heads } = repoWithBranches(['one\n', 'two\n']);
    const { queue, integ } = integrator(dir, { strategy: 'squash' });
    queue.enqueue({ job_id: 'j0', branch: 'b0', head: heads[0]!, target: 'main', attempt: 1 });
    integ.kick();
    await integ.idle();
    expect(git(dir, 'log', '--format=%P', '-1', 'main').split(' ')).toHaveLength(1); // one parent
    const m = integrator(dir, { strategy: 'merge' });
    m.queue.enqueue({ job_id: 'j1', branch: 'b1', head: heads[1]!, target: 'main', attempt: 1 });
    m.integ.kick();
    await m.integ.idle();
    expect(git(dir, 'log', '--format=%P', '-1', 'main').split(' ')).toHaveLength(2); // a merge
    expect(git(dir, 'show', 'main:f1.txt')).toBe('two');
  });

  it('retries an entry that conflicts only with an earlier entry of its batch on the tip the batch produces', async () => {
    // b0 and b1 both rewrite f0.txt; b0 is broken, so only b1's version can land.
    const { dir, heads } = repoWithBranches(['broken\n']);
    const h1 = commitOnBranch(dir, 1, 'f0.txt', 'fine\n');
    git(dir, 'switch', '-q', 'work');
    const check = `if grep -l broken *.txt; then exit 3; fi`;
    const { queue, integ } = integrator(dir, { check, batch: 4 });
    const e0 = queue.enqueue({ job_id: 'j0', branch: 'b0', head: heads[0]!, target: 'main', attempt: 1 });
    const e1 = queue.enqueue({ job_id: 'j1', branch: 'b1', head: h1, target: 'main', attempt: 1 });
    integ.kick();
    await integ.idle();
    expect(queue.get(e0.id).status).toBe('failed_check');
    // b1 conflicted only with b0, which did not land: it lands on main's own tip.
    expect(queue.get(e1.id).status).toBe('landed');
    expect(git(dir, 'show', 'main:f0.txt')).toBe('fine');
    const reasons = queue.eventsSince(0).filter((ev) => ev.entry_id === e1.id).map((ev) => ev.data.reason).filter(Boolean);
    expect(reasons.join('\n')).toMatch(/same batch/);
  });

  it('settles a real conflict only after the batch\'s good part landed, with evidence against that tip', async () => {
    const { dir, heads } = repoWithBranches(['one\n', 'two\n']);
    // b2 rewrites f0.txt differently from b0 (queued ahead of it in the same batch).
    const h2 = commitOnBranch(dir, 2, 'f0.txt', 'other\n');
    git(dir, 'switch', '-q', 'work');
    const { queue, integ, settled } = integrator(dir, { batch: 4 });
    const tipAtSettle = new Map<string, string>();
    const onSettled = settled.push.bind(settled);
    settled.push = (...es: Entry[]) => {
      for (const e of es) tipAtSettle.set(e.id, git(dir, 'rev-parse', 'main'));
      return onSettled(...es);
    };
    const e0 = queue.enqueue({ job_id: 'j0', branch: 'b0', head: heads[0]!, target: 'main', attempt: 1 });
    const e2 = queue.enqueue({ job_id: 'j2', branch: 'b2', head: h2, target: 'main', attempt: 1 });
    const e1 = queue.enqueue({ job_id: 'j1', branch: 'b1', head: heads[1]!, target: 'main', attempt: 1 });
    integ.kick();
    await integ.idle();
    const landedTip = queue.get(e1.id).landed_commit!;
    expect(queue.get(e0.id).status).toBe('landed');
    const c = queue.get(e2.id);
    expect(c.status).toBe('conflicted');
    // Its evidence is against main with b0 and b1 in, and it settled (the follow-up's cue) after they landed.
    expect(c.evidence!.onto).toBe(landedTip);
    expect(tipAtSettle.get(e2.id)).toBe(landedTip);
    expect(c.tries).toBe(2);
  });
});
