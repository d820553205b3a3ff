import { rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createDemoRepo } from './setup.js';
import { startDemoDaemon, type DemoDaemon } from './daemon.js';
import { TERMINAL_SWARM_STATUSES, type SwarmView } from '../swarm/index.js';
import { DemoClient, type QueueEntryView } from './client.js';
import { ProgressLog } from './progress.js';
import { demoTasks } from './steps.js';
import { PROJECT_CONVENTIONS, TARGET_BRANCH } from './project.js';

/** The swarm the demo starts: three scripted agents over the demo's tasks. */
const AGENTS = 3;
const POLL_MS = 250;
/** A demo that has not finished by then is cancelled and reported as failed, never left hanging. */
const GIVE_UP_MS = 180_000;

export interface DemoResult {
  status: SwarmView['status'];
  swarm_id: string;
  url: string;
  token: string;
  repo: string;
  tasks: { key: string | null; state: string; attempts: number; jobs: number }[];
  total: number;
  landed: number;
  conflicts: number;
  conflicts_resolved: number;
  memories: number;
  /** Commits on the target branch, newest first. */
  commits: string[];
  wall_ms: number;
  error: string | null;
}

export interface DemoRun {
  result: DemoResult;
  daemon: DemoDaemon;
}

/**
 * Runs the demo: repository, daemon, swarm, then a summary. `log` gets the dashboard's
 * address first, then one line per event. The daemon is left running for the caller to stop
 * (see `stopDemo`), so it can keep serving the dashboard.
 */
export async function runDemo(opts: { dir?: string; signal?: AbortSignal; log: (line: string) => void }): Promise<DemoRun> {
  const t0 = Date.now();
  const repo = createDemoRepo(opts.dir);
  // A demo that failed to run leaves nothing behind but a directory the user named.
  const discard = (): void => {
    if (!opts.dir) rmSync(repo, { recursive: true, force: true });
  };
  let daemon: DemoDaemon;
  try {
    daemon = await startDemoDaemon(repo);
  } catch (err) {
    discard();
    throw err;
  }
  const client = new DemoClient(daemon.url, daemon.token);
  opts.log(`Dashboard: ${daemon.url}/`);
  opts.log(`Token:     ${daemon.token}`);
  opts.log(`Repository: ${repo}`);
  try {
    await client.call('POST', '/memory/store', { text: PROJECT_CONVENTIONS, tags: ['textkit'], source: 'colony demo' });
    const tasks = demoTasks();
    const { swarm_id } = await client.call<{ swarm_id: string }>('POST', '/swarms', { agents: AGENTS, agent: 'demo', tasks });
    opts.log(`Swarm ${swarm_id}: ${tasks.length} tasks, ${AGENTS} agents`);
    const progress = new ProgressLog(opts.log);
    let view = await client.swarm(swarm_id);
    let entries: QueueEntryView[] = [];
    let error: string | null = null;
    for (;;) {
      progress.swarm(view);
      entries = await client.queue();
      progress.queue(entries, view.tasks);
      if (TERMINAL_SWARM_STATUSES.has(view.status)) break;
      if (opts.signal?.aborted || Date.now() - t0 > GIVE_UP_MS) {
        if (!opts.signal?.aborted) error = `the swarm did not finish within ${GIVE_UP_MS / 1000}s`;
        view = await client.call<SwarmView>('POST', `/swarms/${swarm_id}/cancel`);
        continue;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
      view = await client.swarm(swarm_id);
    }
    const result = summarise(view, entries, await client.memories(), repo, daemon, Date.now() - t0);
    result.error = error ?? view.error;
    return { result, daemon };
  } catch (err) {
    await daemon.stop();
    discard();
    throw err;
  }
}

function summarise(view: SwarmView, entries: QueueEntryView[], memories: number, repo: string, daemon: DemoDaemon, wall_ms: number): DemoResult {
  const conflicted = entries.filter((e) => e.status === 'conflicted');
  // A conflict is resolved when the follow-up job the merge queue started landed.
  const landedJobs = new Set(entries.filter((e) => e.status === 'landed').map((e) => e.job_id));
  const commits = execFileSync('git', ['log', '--format=%h %s', TARGET_BRANCH], { cwd: repo, encoding: 'utf8' }).trim().split('\n');
  return {
    status: view.status,
    swarm_id: view.swarm_id,
    url: daemon.url,
    token: daemon.token,
    repo,
    tasks: view.tasks.map((t) => ({ key: t.key, state: t.state, attempts: t.attempts, jobs: t.job_ids.length })),
    total: view.tasks.length,
    landed: view.tasks.filter((t) => t.state === 'landed').length,
    conflicts: conflicted.length,
    conflicts_resolved: conflicted.filter((e) => e.follow_up?.job_id && landedJobs.has(e.follow_up.job_id)).length,
    memories,
    commits,
    wall_ms,
    error: null,
  };
}

/** The summary as the demo prints it. */
export function describeResult(r: DemoResult): string[] {
  const secs = (r.wall_ms / 1000).toFixed(1);
  const lines = [
    '',
    r.status === 'completed' ? `Done in ${secs}s: the swarm ${r.status}.` : `Stopped after ${secs}s: the swarm ${r.status}${r.error ? ` (${r.error})` : ''}.`,
    `  landed:              ${r.landed} of ${r.total} tasks`,
    `  conflicts resolved:  ${r.conflicts_resolved} of ${r.conflicts} (by follow-up jobs on the new tip)`,
    `  memories stored:     ${r.memories}`,
    `  commits on ${TARGET_BRANCH}:     ${r.commits.length}`,
  ];
  for (const c of r.commits.slice(0, 12)) lines.push(`    ${c}`);
  return lines;
}

/** Stop the daemon; remove the repository unless it is to be kept. */
export async function stopDemo(run: DemoRun, keepRepo: boolean): Promise<void> {
  await run.daemon.stop();
  if (!keepRepo) rmSync(run.result.repo, { recursive: true, force: true });
}
