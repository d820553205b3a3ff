// The swarm end to end (issue #14's "Done when"): a real daemon, the scripted fake agent (a
// real executable, shipped as dist/src/demo/agent.js), seven tasks with dependencies and three
// agents; two tasks append to the same lines, so one branch conflicts in the merge queue and
// the follow-up job the landing policy starts lands it on the new tip.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { api, startTestDaemon, waitUntil } from '../helpers/daemon.js';
import { git, tempDir } from '../helpers/repo.js';
import { createDemoRepo, demoConfig, demoTasks, DEMO_AGENT, DEMO_STEPS } from '../../src/demo/index.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import { useCleanups } from './helpers.js';

const cleanups = useCleanups();

describe('swarm end to end on a real project', { timeout: 120_000 }, () => {
  it('lands 7 dependent tasks with 3 agents, one conflict resolved by a follow-up job, and the project\'s tests pass on the target', async () => {
    expect(existsSync(DEMO_AGENT), `${DEMO_AGENT} (npm run build)`).toBe(true);
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const repo = createDemoRepo(join(tmp.dir, 'repo'));
    const d: Daemon = await startTestDaemon(repo, demoConfig());
    cleanups.push(() => d.close());

    const tasks = demoTasks();
    expect(tasks.length).toBeGreaterThanOrEqual(6);
    expect(tasks.filter((t) => t.depends_on.length).length).toBeGreaterThanOrEqual(3);
    const started = await api(d.url, 'POST', '/swarms', { agents: 3, agent: 'demo', tasks });
    expect(started.status).toBe(202);
    const id = started.body.swarm_id as string;

    const workers = new Set<number>();
    const view = await waitUntil(
      async () => {
        const v = (await api(d.url, 'GET', `/swarms/${id}`)).body;
        for (const t of v.tasks) if (t.worker) workers.add(t.worker);
        return ['completed', 'failed', 'cancelled'].includes(v.status) ? v : undefined;
      },
      100_000,
      'the swarm to finish',
    );
    const states = Object.fromEntries(view.tasks.map((t: any) => [t.key, t.state]));
    expect(states).toEqual(Object.fromEntries(DEMO_STEPS.map((s) => [s.key, 'landed'])));
    expect(view.status).toBe('completed');
    expect(view.summary).toMatchObject({ total: 7, landed: 7, stuck: 0 });
    // Dependencies were task ids, and more than one worker slot was used.
    const byKey = new Map(view.tasks.map((t: any) => [t.key, t]));
    expect((byKey.get('headline') as any).depends_on.sort()).toEqual([(byKey.get('title-case') as any).task_id, (byKey.get('truncate') as any).task_id].sort());
    expect(workers.size).toBeGreaterThan(1);
    for (const w of workers) expect(w).toBeGreaterThanOrEqual(1), expect(w).toBeLessThanOrEqual(3);

    // Exactly one conflict, in the registry both tasks append to, and its follow-up landed.
    const entries = (await api(d.url, 'GET', '/merge-queue?limit=100')).body.entries as any[];
    const conflicted = entries.filter((e) => e.status === 'conflicted');
    expect(conflicted).toHaveLength(1);
    expect(conflicted[0].evidence).toMatchObject({ kind: 'conflict', files: ['src/index.js'] });
    const followUp = conflicted[0].follow_up.job_id;
    expect(entries.find((e) => e.job_id === followUp)?.status).toBe('landed');
    const racer = view.tasks.find((t: any) => t.job_ids.includes(followUp));
    expect(['slugify', 'title-case']).toContain(racer.key);
    expect(racer.job_ids.length).toBeGreaterThanOrEqual(2);

    // The target has every task's change, in dependency order, and its tests pass there.
    const checkout = join(tmp.dir, 'main');
    git(repo, 'worktree', 'add', '--quiet', '--detach', checkout, 'main');
    // A later step may rewrite a file: each file holds its last writer's version.
    const lastWrite = new Map(DEMO_STEPS.flatMap((s) => Object.entries(s.writes)));
    for (const [file, text] of lastWrite) expect(git(checkout, 'show', `HEAD:${file}`), file).toBe(text.trimEnd());
    const index = git(checkout, 'show', 'HEAD:src/index.js');
    for (const step of DEMO_STEPS) for (const lines of Object.values(step.appends ?? {})) expect(index).toContain(lines);
    const log = git(checkout, 'log', '--format=%s').split('\n');
    const at = (key: string) => log.findIndex((s) => s.endsWith(`(${key})`));
    for (const step of DEMO_STEPS) {
      expect(at(step.key), step.key).toBeGreaterThanOrEqual(0);
      for (const dep of step.depends_on) expect(at(dep), `${dep} landed before ${step.key}`).toBeGreaterThan(at(step.key));
    }
    const tests = execFileSync(process.execPath, ['--test'], { cwd: checkout, encoding: 'utf8' });
    expect(tests).toMatch(/# fail 0/);
    expect(tests).toMatch(/# pass 7/);

    // The agents went through Colony: memories stored (and recalled by later agents), tasks completed, reservations released.
    const recalled = await api(d.url, 'POST', '/memory/recall', { cue: 'titleCase truncate headline', budget_tokens: 500 });
    expect(recalled.body.memories.map((m: any) => m.text).join('\n')).toMatch(/headline\(text, max = 60\)/);
    const coordTasks = (await api(d.url, 'GET', '/tasks')).body.tasks as any[];
    for (const t of view.tasks) expect(coordTasks.find((c) => c.task_id === t.task_id)?.completed_at, t.key).toBeTruthy();
    const jobs = await Promise.all(view.tasks.map((t: any) => api(d.url, 'GET', `/jobs/${t.job_id}`)));
    const headlineJob = jobs.find((j) => j.body.result?.includes('step headline'))!.body;
    expect(headlineJob.result).toMatch(/recalled: textkit: titleCase/);
    expect(headlineJob.result).toMatch(/claimed task task_/);
    await waitUntil(async () => (await api(d.url, 'GET', '/coord/status')).body.reservations.length === 0, 10_000, 'every reservation released');
  });
});
