/**
 * The demo's scripted agent, run by the daemon as a `command` agent with the prompt on stdin
 * in the job's own checkout. It works like a coding agent, minus the model: finds its step
 * in the prompt, reserves what it edits, confirms its task claim, recalls what earlier agents
 * learned, edits and commits, and stores what it learned. A follow-up prompt (the merge queue
 * says the first attempt conflicted) does the same edits again on the new tip.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { SocketClient } from './socket-client.js';
import { stepInPrompt, type DemoStep } from './steps.js';

/** How long an agent waits for the step it races with to start (then it goes on alone). */
const RENDEZVOUS_MS = 15_000;
/** What the merge queue appends to a follow-up's prompt (src/land/policy.ts FOLLOW_UP_MARKER). */
const FOLLOW_UP = 'Colony merge queue:';
/** Memory scope of the agents' own comings and goings, kept apart from what they learned about the project. */
const RUNS_SCOPE = 'demo-runs';

const say = (line: string): void => void process.stdout.write(line + '\n');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: this agent runs inside a Colony job`);
  return v;
}

/** The task this job works on, as the runner recorded it (the job claimed it at submission). */
async function taskOfJob(jobId: string): Promise<string | null> {
  const res = await fetch(`${env('COLONY_URL')}/jobs/${encodeURIComponent(jobId)}`, { headers: { authorization: `Bearer ${env('COLONY_TOKEN')}` } });
  if (!res.ok) return null;
  const job = (await res.json()) as { landing?: { task_id?: string | null } };
  return job.landing?.task_id ?? null;
}

function edit(step: DemoStep): string[] {
  const changed: string[] = [];
  for (const [file, text] of Object.entries(step.writes)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    changed.push(file);
  }
  for (const [file, lines] of Object.entries(step.appends ?? {})) {
    const now = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (now.includes(lines)) continue;
    writeFileSync(file, (now && !now.endsWith('\n') ? now + '\n' : now) + lines + '\n');
    changed.push(file);
  }
  return changed;
}

function commit(step: DemoStep): void {
  const git = (args: string[]): string => execFileSync('git', args, { encoding: 'utf8' });
  git(['add', '-A']);
  // Its own identity, and none of the user's global signing or hooks: the demo runs anywhere.
  git(['-c', 'user.name=Colony demo agent', '-c', 'user.email=demo-agent@colony.invalid', '-c', 'commit.gpgsign=false', '-c', 'core.hooksPath=/dev/null', 'commit', '--quiet', '-m', `${step.description} (${step.key})`]);
  say(`committed ${git(['rev-parse', '--short', 'HEAD']).trim()}: ${step.description}`);
}

/** Wait until the partner step says it reached `event` (a note in memory), or give up after a while. */
async function waitForPartner(colony: SocketClient, partner: string, event: 'started' | 'committed'): Promise<void> {
  const end = Date.now() + RENDEZVOUS_MS;
  while (Date.now() < end) {
    const r = await colony.call<{ memories: { text: string }[] }>('memory_recall', { cue: `${partner} ${event}`, budget_tokens: 200, scope: RUNS_SCOPE, tags: [`${event}:${partner}`] });
    if (r.memories.length) return say(`recalled: ${r.memories[0]!.text}`);
    await sleep(100);
  }
  say(`${partner} has not ${event} within ${RENDEZVOUS_MS / 1000}s; going on`);
}

const note = (colony: SocketClient, step: DemoStep, event: 'started' | 'committed'): Promise<unknown> =>
  colony.call('memory_store', { text: `${step.key} ${event === 'started' ? 'started editing' : 'committed its change'}`, tags: [`${event}:${step.key}`], scope: RUNS_SCOPE });

async function main(): Promise<void> {
  const prompt = readFileSync(0, 'utf8');
  const step = stepInPrompt(prompt);
  if (!step) throw new Error('no "(demo step: …)" in the prompt: this agent only does the demo\'s steps');
  const followUp = prompt.includes(FOLLOW_UP);
  const runId = env('COLONY_RUN_ID');
  const colony = await SocketClient.connect(join(env('COLONY_REPO'), '.colony', 'colony.sock'));
  try {
    say(followUp ? `step ${step.key}: the first attempt did not land; doing it again on the new tip` : `step ${step.key}: ${step.description}`);
    // The files it writes whole; a shared registry it only appends to stays open to others.
    const symbols = Object.keys(step.writes);
    const res = await colony.call<{ granted: boolean; reservation_id?: string; conflicts?: { run_id: string }[] }>('coord_reserve', { run_id: runId, symbols, ttl_seconds: 300 });
    say(res.granted ? `reserved ${symbols.join(', ')}` : `reservation refused, held by ${res.conflicts?.map((c) => c.run_id).join(', ')}`);
    const taskId = await taskOfJob(runId);
    if (taskId) {
      const claim = await colony.call<{ claimed: boolean }>('task_claim', { run_id: runId, task_id: taskId, ttl_seconds: 300 });
      say(claim.claimed ? `claimed task ${taskId}` : `task ${taskId} is not ours`);
    }
    const recalled = await colony.call<{ memories: { text: string }[] }>('memory_recall', { cue: step.recall, budget_tokens: 300, k: 3 });
    for (const m of recalled.memories) say(`recalled: ${m.text}`);
    const racing = step.rendezvous && !followUp ? step.rendezvous : undefined;
    if (racing) {
      await note(colony, step, 'started');
      await waitForPartner(colony, racing, 'started');
      if (step.yields) await waitForPartner(colony, racing, 'committed');
    }
    const changed = edit(step);
    say(`edited ${changed.join(', ')}`);
    commit(step);
    if (racing) await note(colony, step, 'committed');
    await colony.call('memory_store', { text: step.learned, tags: ['textkit', step.key], source: `demo agent, job ${runId}` });
    say(`stored: ${step.learned}`);
    if (res.granted && res.reservation_id) await colony.call('coord_release', { run_id: runId, reservation_id: res.reservation_id });
  } finally {
    colony.close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`demo agent: ${err.message}\n`);
  process.exit(1);
});
