import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { InvalidInputError, fsErrorReason } from '../lib/errors.js';
import { PERMISSION_LEVELS } from '../runner/agents/permissions.js';
// The types module only: a CLI command loads no domain code.
import { TERMINAL_SWARM_STATUSES, type SwarmTask, type SwarmView } from '../swarm/types.js';
import { connectDaemon, type DaemonClient } from './client.js';
import { printResult, table } from './output.js';
import { readSse } from './sse-client.js';

/** Exit code after Ctrl-C, as shells report a SIGINT. */
const EXIT_INTERRUPTED = 130;

function intIn(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidInputError(`${name} must be a whole number from ${min} to ${max}, got '${v}'`);
    return n;
  };
}

const taskName = (t: SwarmTask): string => t.key ?? t.task_id;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** The end of a swarm in a few lines: what landed, what is stuck and why, and what it cost. */
export function describeSwarm(v: SwarmView): string {
  const s = v.summary;
  const lines = [
    `swarm ${v.swarm_id} ${v.status}${v.finished_at ? ` in ${seconds(s.wall_ms)}` : ` for ${seconds(s.wall_ms)}`}${v.error ? `: ${v.error}` : ''}`,
    `  landed ${s.landed}/${s.total} · running ${s.running} · waiting ${s.waiting} · stuck ${s.stuck} · failed attempts ${s.failed_attempts}`,
    `  cost $${s.cost_usd.toFixed(4)} · tokens ${s.input_tokens} in / ${s.output_tokens} out`,
  ];
  for (const t of v.tasks) if (t.state === 'stuck') lines.push(`  stuck ${taskName(t)}: ${t.reason ?? 'no reason recorded'}`);
  return lines.join('\n');
}

function tasksTable(v: SwarmView): string {
  if (!v.tasks.length) return v.status === 'planning' ? `planning (job ${v.planner_job_id})` : 'no tasks';
  return table([
    ['TASK', 'STATE', 'ATTEMPTS', 'WORKER', 'JOB', 'DESCRIPTION / REASON'],
    ...v.tasks.map((t) => [
      taskName(t),
      t.state,
      String(t.attempts),
      t.worker === null ? '' : String(t.worker),
      t.job_id ?? '',
      (t.reason ?? t.description).replace(/\s+/g, ' ').slice(0, 70),
    ]),
  ]);
}

/** What changed between two views, one line each. */
function changes(prev: SwarmView | undefined, v: SwarmView): string[] {
  const out: string[] = [];
  if (!prev || prev.status !== v.status) out.push(`swarm ${v.status}${v.status === 'planning' ? ` (planner job ${v.planner_job_id})` : ''}${v.error ? `: ${v.error}` : ''}`);
  const before = new Map(prev?.tasks.map((t) => [t.task_id, t]));
  for (const t of v.tasks) {
    const p = before.get(t.task_id);
    if (p && p.state === t.state && p.job_id === t.job_id) continue;
    const detail =
      t.state === 'running'
        ? ` (job ${t.job_id}${t.worker ? `, agent ${t.worker}` : ''}, attempt ${t.attempts})`
        : (t.state === 'stuck' || t.state === 'waiting') && t.reason
          ? `: ${t.reason}`
          : '';
    out.push(`task ${taskName(t)} ${t.state}${detail}`);
  }
  return out;
}

/** Follow a swarm until it ends, printing progress to stderr; returns its final view. */
async function followSwarm(client: DaemonClient, id: string, signal: AbortSignal): Promise<SwarmView> {
  const tty = !!process.stderr.isTTY;
  let prev: SwarmView | undefined;
  const show = (v: SwarmView): void => {
    const lines = changes(prev, v);
    prev = v;
    if (!tty) {
      for (const l of lines) process.stderr.write(l + '\n');
      return;
    }
    // On a terminal: the changes scroll, one status line stays at the bottom.
    const s = v.summary;
    process.stderr.write('\r\x1b[K' + lines.map((l) => l + '\n').join(''));
    process.stderr.write(`[${v.status}] landed ${s.landed}/${s.total} · running ${s.running} · waiting ${s.waiting} · stuck ${s.stuck} · ${seconds(s.wall_ms)}`);
  };
  const path = `/swarms/${encodeURIComponent(id)}`;
  for (;;) {
    try {
      const res = await client.fetch(`${path}/events`, { signal });
      if (!res.ok || !res.body) await client.request('GET', path); // throws the API's error
      else
        for await (const m of readSse(res.body)) {
          if (m.event === 'swarm') show(JSON.parse(m.data) as SwarmView);
        }
    } catch (err) {
      if (signal.aborted) break;
      if ((err as { code?: string }).code === 'not_found') throw err;
    }
    if (prev && TERMINAL_SWARM_STATUSES.has(prev.status)) break;
    // The stream dropped before the end: look again, then reconnect.
    const v = await client.request<SwarmView>('GET', path);
    if (TERMINAL_SWARM_STATUSES.has(v.status)) {
      show(v);
      break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (tty) process.stderr.write('\n');
  return prev ?? client.request<SwarmView>('GET', path);
}

function exitCodeOf(v: SwarmView): number {
  return v.status === 'completed' ? 0 : 1;
}

export function registerSwarm(program: Command): void {
  const swarm = program
    .command('swarm')
    .description('run a swarm: several agents work through a goal (--plan), a tasks file (--tasks) or the open tasks, landing each task through the merge queue')
    .option('--agents <n>', 'jobs at a time (1 to 32)', intIn('--agents', 1, 32))
    .option('--agent <name>', 'configured agent every job runs (default: default_agent)')
    .option('--model <model>', 'model for the agent')
    .option('--plan <goal>', 'a goal a planner job first breaks into tasks')
    .option('--tasks <file>', 'a YAML or JSON tasks file (tasks: [{id, description, depends_on, reserve, priority}])')
    .option('--max-attempts <n>', 'jobs per task before it is left stuck (1 to 10, default 2)', intIn('--max-attempts', 1, 10))
    .addOption(new Option('--permissions <level>', 'what the agents may do, up to their configured level').choices(PERMISSION_LEVELS))
    .option('--timeout <s>', 'seconds each job may run', intIn('--timeout', 1, 7 * 86_400))
    .option('--detach', 'print the swarm id and return; follow it with `colony swarm show`')
    .option('--repo <dir>', 'repository whose daemon to use')
    .option('--json', 'print the final swarm as JSON')
    .action(async (o) => {
      if (o.plan !== undefined && o.tasks !== undefined) throw new InvalidInputError('give either --plan or --tasks, not both');
      let tasks: unknown;
      if (o.tasks !== undefined) {
        let text: string;
        try {
          text = readFileSync(o.tasks, 'utf8');
        } catch (err) {
          throw new InvalidInputError(`cannot read the tasks file ${o.tasks}: ${fsErrorReason(err)}`);
        }
        // The parser (and its YAML library) is loaded only when a file is given.
        tasks = (await import('../swarm/tasks-file.js')).parseTasksFile(text, o.tasks);
      }
      const client = connectDaemon(o.repo);
      const r = await client.request<{ swarm_id: string; status: string }>('POST', '/swarms', {
        agents: o.agents,
        agent: o.agent,
        model: o.model,
        plan: o.plan,
        tasks,
        max_attempts: o.maxAttempts,
        permissions: o.permissions,
        timeout_s: o.timeout,
      });
      if (o.detach) {
        printResult(o.json, r, (v: typeof r) => v.swarm_id);
        return;
      }
      const ctrl = new AbortController();
      let interrupted = false;
      const onInt = (): void => {
        // A second Ctrl-C leaves at once.
        if (interrupted) process.exit(EXIT_INTERRUPTED);
        interrupted = true;
        process.stderr.write('\ncancelling the swarm (Ctrl-C again to leave at once)…\n');
        ctrl.abort();
      };
      process.on('SIGINT', onInt);
      try {
        let v = await followSwarm(client, r.swarm_id, ctrl.signal);
        if (interrupted) v = await client.request<SwarmView>('POST', `/swarms/${encodeURIComponent(r.swarm_id)}/cancel`);
        printResult(o.json, v, describeSwarm);
        process.exitCode = interrupted ? EXIT_INTERRUPTED : exitCodeOf(v);
      } finally {
        process.off('SIGINT', onInt);
      }
    });

  swarm
    .command('ls')
    .description('swarms, newest first')
    .option('--limit <n>', 'how many', intIn('--limit', 1, 1000), 50)
    .option('--cursor <cursor>', 'next_cursor from a previous page')
    .option('--repo <dir>', 'repository whose daemon to use')
    .option('--json', 'print JSON')
    .action(async (_o, cmd: Command) => {
      const o = cmd.optsWithGlobals();
      const qs = new URLSearchParams({ limit: String(o.limit) });
      if (o.cursor) qs.set('cursor', o.cursor);
      const r = await connectDaemon(o.repo).request<{ swarms: SwarmView[]; next_cursor: string | null }>('GET', `/swarms?${qs}`);
      printResult(o.json, r, (v: typeof r) =>
        v.swarms.length === 0
          ? 'no swarms'
          : table([
              ['SWARM', 'STATUS', 'LANDED', 'STUCK', 'SOURCE', 'CREATED', 'GOAL'],
              ...v.swarms.map((s) => [s.swarm_id, s.status, `${s.summary.landed}/${s.summary.total}`, String(s.summary.stuck), s.source, s.created_at, (s.goal ?? '').replace(/\s+/g, ' ').slice(0, 40)]),
            ]) + (v.next_cursor ? `\nmore: --cursor ${v.next_cursor}` : ''),
      );
    });

  swarm
    .command('show')
    .description('one swarm: its summary and every task')
    .argument('<id>', 'swarm id')
    .option('--repo <dir>', 'repository whose daemon to use')
    .option('--json', 'print JSON')
    .action(async (id: string, _o, cmd: Command) => {
      const o = cmd.optsWithGlobals();
      const v = await connectDaemon(o.repo).request<SwarmView>('GET', `/swarms/${encodeURIComponent(id)}`);
      printResult(o.json, v, (x: SwarmView) => `${describeSwarm(x)}\n\n${tasksTable(x)}`);
    });

  swarm
    .command('cancel')
    .description('stop starting work, cancel the queued and running jobs; tasks not landed are cancelled')
    .argument('<id>', 'swarm id')
    .option('--repo <dir>', 'repository whose daemon to use')
    .option('--json', 'print JSON')
    .action(async (id: string, _o, cmd: Command) => {
      const o = cmd.optsWithGlobals();
      const v = await connectDaemon(o.repo).request<SwarmView>('POST', `/swarms/${encodeURIComponent(id)}/cancel`);
      printResult(o.json, v, describeSwarm);
    });
}
