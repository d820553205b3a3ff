import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, type ChildProcess } from 'node:child_process';
import { colony, colonyJson as json } from '../helpers/cli.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, fakeAgents, spawnDaemon, waitJob, writeColonyConfig, stopProcess } from '../helpers/daemon.js';
import { git, makeTempRepo } from '../helpers/repo.js';


let repo: { dir: string; cleanup: () => void };
let daemon: { child: ChildProcess; url: string };
beforeAll(async () => {
  repo = makeTempRepo({ 'src/a.ts': 'a\n', 'src/b.ts': 'b\n' });
  writeColonyConfig(repo.dir, { agents: fakeAgents() });
  daemon = await spawnDaemon(repo.dir, [], { COLONY_TOKEN: '' });
});
afterAll(async () => {
  await stopProcess(daemon.child);
  repo.cleanup();
});

describe('colony coord / task CLI', () => {
  it('reserves, checks, heartbeats, declares intents and releases', async () => {
    const dir = repo.dir;
    const r = await json(['coord', 'reserve', 'src/a.ts::Foo', '--run', 'alice', '--ttl', '300'], dir);
    expect(r).toMatchObject({ granted: true });
    const clash = await colony(['coord', 'reserve', 'src/a.ts', '--run', 'bob'], dir);
    expect(clash.code).toBe(2);
    expect(clash.stdout).toMatch(/refused: held by[\s\S]*alice/);
    expect((await json(['coord', 'check', 'src/a.ts'], dir)).holders[0].run_id).toBe('alice');
    expect(await json(['coord', 'heartbeat', '--run', 'alice'], dir)).toMatchObject({ reservations: 1, claims: 0 });
    expect((await json(['coord', 'intent', r.reservation_id, 'modify', 'src/a.ts::Foo.bar', '--run', 'alice'], dir)).intent_id).toMatch(/^int_/);
    expect((await json(['coord', 'status', '--run', 'alice'], dir)).reservations).toHaveLength(1);
    const wrong = await colony(['coord', 'release', r.reservation_id, '--run', 'bob'], dir);
    expect(wrong).toMatchObject({ code: 1 });
    expect(wrong.stderr).toMatch(/belongs to run alice/);
    expect(await json(['coord', 'release', r.reservation_id, '--run', 'alice'], dir)).toEqual({ released: true });
    const bad = await colony(['coord', 'reserve', '../escape.ts', '--run', 'x'], dir);
    expect(bad.stderr).toMatch(/normalised path/);
  });

  it('creates, orders, claims and completes tasks', async () => {
    const dir = repo.dir;
    const a = (await json(['task', 'add', 'write the parser', '--priority', '2', '--run', 'pm'], dir)).task_id;
    const b = (await json(['task', 'add', 'test the parser', '--after', a, '--run', 'pm'], dir)).task_id;
    expect((await json(['task', 'ready'], dir)).tasks.map((t: any) => t.task_id)).toEqual([a]);
    expect(await json(['task', 'claim', a, '--run', 'w1'], dir)).toMatchObject({ claimed: true });
    expect(await json(['task', 'claim', a, '--run', 'w2'], dir)).toMatchObject({ claimed: false, holder: { run_id: 'w1' } });
    expect(await json(['task', 'done', a, '--run', 'w1'], dir)).toEqual({ completed: true });
    expect((await json(['task', 'ready'], dir)).tasks.map((t: any) => t.task_id)).toEqual([b]);
    expect(await json(['task', 'claim', b, '--run', 'w2'], dir)).toMatchObject({ claimed: true });
    expect(await json(['task', 'abandon', b, '--run', 'w2'], dir)).toEqual({ abandoned: true });
    const c = (await json(['task', 'add', 'docs', '--run', 'pm'], dir)).task_id;
    expect(await json(['task', 'dep', c, b], dir)).toEqual({ task_id: c, depends_on: [b] });
    const ls = await colony(['task', 'ls'], dir);
    expect(ls.stdout).toMatch(new RegExp(`done[\\s\\S]*ready[\\s\\S]*waits on ${b}`));
  });

  it('gc removes expired records and reports counts, with a dry run', async () => {
    const dir = repo.dir;
    await json(['coord', 'reserve', 'gc/me.ts', '--run', 'short', '--ttl', '1'], dir);
    await new Promise((r) => setTimeout(r, 1200));
    const dry = await json(['coord', 'gc', '--dry-run'], dir);
    expect(dry.reservations_removed).toBeGreaterThanOrEqual(1);
    expect(Object.keys(dry).sort()).toEqual(['claims_removed', 'dependencies_removed', 'heartbeats_removed', 'intents_removed', 'releases_removed', 'reservations_removed']);
    expect(await json(['coord', 'gc'], dir)).toEqual(dry);
    expect((await json(['coord', 'gc'], dir)).reservations_removed).toBe(0);
  });

  it('the pre-commit hook refuses a commit touching a file another run reserved, naming the holder', async () => {
    const dir = repo.dir;
    expect((await json(['coord', 'hook', 'install'], dir)).installed).toBe(true);
    await json(['coord', 'reserve', 'src/b.ts::Thing', '--run', 'holder-run'], dir);
    writeFileSync(join(dir, 'src/b.ts'), 'changed\n');
    git(dir, 'add', 'src/b.ts');
    const env = { ...process.env, COLONY_RUN_ID: 'committer', COLONY_URL: '', COLONY_TOKEN: '' };
    const refused = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile('git', ['commit', '-m', 'touch b'], { cwd: dir, env }, (err, _o, stderr) => resolve({ code: err ? 1 : 0, stderr })),
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/commit refused[\s\S]*holder-run/);
    // The holder itself may commit.
    const allowed = await new Promise<number>((resolve) =>
      execFile('git', ['commit', '-q', '-m', 'by holder'], { cwd: dir, env: { ...env, COLONY_RUN_ID: 'holder-run' } }, (err) => resolve(err ? 1 : 0)),
    );
    expect(allowed).toBe(0);
    expect(git(dir, 'log', '-1', '--format=%s')).toBe('by holder');
  });

  it('jobs get the hook in their workspace: an agent cannot commit a file reserved by another run', async () => {
    await api(daemon.url, 'POST', '/coord/reserve', { run_id: 'someone-else', symbols: ['src/locked.ts'] }, readToken());
    const id = (await api(daemon.url, 'POST', '/execute', { prompt: 'touch it [commit:src/locked.ts]' }, readToken())).body.job_id;
    const j = await waitJob(daemon.url, id, 20_000, readToken());
    expect(j.status).toBe('failed');
    // The hook refuses the agent's own commit; what it left is then refused by the runner's
    // check of the leftover commit, which names the holder too.
    expect(j.error).toMatch(/reserved by (run )?someone-else|commit refused[\s\S]*someone-else/);
    expect(j.branch ?? null).toBeNull();
  });
});

function readToken(): string {
  return readFileSync(join(repo.dir, '.colony', 'token'), 'utf8').trim();
}
