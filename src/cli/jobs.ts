import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import { PERMISSION_LEVELS } from '../runner/agents/permissions.js';
import { InvalidInputError } from '../lib/errors.js';
import type { JobEvent, JobRecord } from '../runner/types.js';
import { FINISHED_STATUSES } from '../runner/types.js';
import { connectDaemon, type DaemonClient } from './client.js';
import { plural, printResult, table } from './output.js';
import { readSse } from './sse-client.js';

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidInputError(`${name} must be a positive whole number, got '${v}'`);
    return n;
  };
}

/**
 * Does the job's branch exist in the repository? A job that failed or was cancelled before
 * its branch was fetched back still names it. Without a repository to look in (a client
 * reaching the daemon through COLONY_URL), a branch with commits is taken to exist.
 */
function branchExists(j: JobRecord, repo: string | undefined): boolean {
  if (!j.branch) return false;
  if (!repo) return (j.commits?.length ?? 0) > 0;
  try {
    execFileSync('git', ['show-ref', '--verify', '--quiet', `refs/heads/${j.branch}`], { cwd: repo, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function describeJob(j: JobRecord & { position?: number }, repo?: string): string {
  const lines = [
    `job      ${j.id}`,
    `status   ${j.status}${j.position ? ` (position ${j.position} in queue)` : ''}`,
    `agent    ${j.agent}${j.model ? ` (${j.model})` : ''}`,
    `created  ${j.created_at}`,
  ];
  if (j.finished_at) lines.push(`finished ${j.finished_at}`);
  if (j.exit_code !== null) lines.push(`exit     ${j.exit_code}`);
  if (branchExists(j, repo)) lines.push(`branch   ${j.branch}`);
  if (j.diff_stat)
    lines.push(`diff     ${plural(j.diff_stat.files, 'file')}, +${j.diff_stat.insertions} -${j.diff_stat.deletions}`);
  if (j.usage) lines.push(`usage    ${JSON.stringify(j.usage)}`);
  if (j.error) lines.push(`error    ${j.error}`);
  const entry = (j as { landing?: { entry?: { id: string; status: string; landed_commit: string | null } | null } }).landing?.entry;
  if (entry) lines.push(`landing  ${entry.status} (${entry.id})${entry.landed_commit ? ` as ${entry.landed_commit}` : ''}`);
  if (j.result) lines.push('', j.result);
  return lines.join('\n');
}

/** Human line for one job event. */
function renderEvent(e: JobEvent): string | undefined {
  const d = e.data as Record<string, any>;
  if (e.type === 'status') return `[${d.status}]${d.error ? ` ${d.error}` : ''}`;
  if (e.type === 'log') return `${d.stream === 'stderr' ? '! ' : ''}${d.line}`;
  switch (d.type) {
    case 'text':
      return d.text;
    case 'tool_use':
      return `→ ${d.name}`;
    case 'result':
      return undefined; // shown once at the end
    default:
      return undefined;
  }
}

/** Print a job's events as they happen until it ends; returns the final job. */
async function follow(client: DaemonClient, id: string, json: boolean): Promise<JobRecord> {
  let last = '0';
  // Reconnect with Last-Event-ID if the stream drops before the job ends.
  for (let attempt = 0; attempt < 20; attempt++) {
    const res = await client.fetch(`/jobs/${encodeURIComponent(id)}/events`, { headers: { 'last-event-id': last } });
    if (!res.ok || !res.body) {
      await client.request('GET', `/jobs/${encodeURIComponent(id)}`); // throws the API's error
      break;
    }
    try {
      for await (const msg of readSse(res.body)) {
        if (msg.id) last = msg.id;
        const e = JSON.parse(msg.data) as JobEvent;
        if (json) process.stdout.write(JSON.stringify(e) + '\n');
        else {
          const line = renderEvent(e);
          if (line !== undefined) process.stderr.write(line + '\n');
        }
      }
    } catch {
      /* dropped: reconnect below */
    }
    const job = await client.request<JobRecord>('GET', `/jobs/${encodeURIComponent(id)}`);
    if (FINISHED_STATUSES.has(job.status)) return job;
    await sleep(500);
  }
  return client.request<JobRecord>('GET', `/jobs/${encodeURIComponent(id)}`);
}

async function waitDone(client: DaemonClient, id: string): Promise<JobRecord> {
  for (;;) {
    const job = await client.request<JobRecord>('GET', `/jobs/${encodeURIComponent(id)}`);
    if (FINISHED_STATUSES.has(job.status)) return job;
    await sleep(250);
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('queue an agent job in its own workspace')
    .argument('<prompt>', 'what the agent should do')
    .option('--agent <name>', 'configured agent to run (default: default_agent)')
    .option('--model <model>', 'model for the agent')
    .addOption(
      new Option('--permissions <level>', 'what the agent may do, up to its configured level (default: that level)').choices(PERMISSION_LEVELS),
    )
    .option('--timeout <s>', 'seconds the job may run', positiveInt('--timeout'))
    .option('--base-ref <ref>', 'branch or commit to start from (default: HEAD)')
    .option('--land', 'queue its branch in the merge queue when it completes')
    .option('--reserve <symbols...>', 'files or symbols the job reserves before it starts and holds until its work lands')
    .option('--task <id>', 'task the job claims now and completes when its work lands')
    .option('--wait', 'wait for the job to finish and print it')
    .option('--follow', 'stream the job’s events live until it finishes')
    .option('--repo <dir>', 'repository whose daemon to use')
    .option('--json', 'print JSON')
    .action(async (prompt: string, o) => {
      const client = connectDaemon(o.repo);
      const r = await client.request<{ job_id: string; status: string; position: number }>('POST', '/execute', {
        prompt,
        agent: o.agent,
        model: o.model,
        permissions: o.permissions,
        timeout_s: o.timeout,
        base_ref: o.baseRef,
        land: o.land,
        reserve: o.reserve,
        task_id: o.task,
        // Inside a job, the job that runs this command is the new job's parent.
        parent_job_id: process.env.COLONY_JOB_ID || undefined,
      });
      if (!o.wait && !o.follow) {
        printResult(o.json, r, (v) => `queued ${v.job_id} (${v.status}${v.position ? `, position ${v.position}` : ''})`);
        return;
      }
      if (!o.json) process.stderr.write(`job ${r.job_id} ${r.status}\n`);
      const job = o.follow ? await follow(client, r.job_id, !!o.json) : await waitDone(client, r.job_id);
      printResult(o.json, job, (j) => describeJob(j, client.repo));
      if (job.status !== 'completed') process.exitCode = 1;
    });

}

export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('list, inspect, follow and cancel jobs');
  jobs
    .command('ls')
    .description('list jobs, newest first')
    .option('--status <status>', 'only jobs with this status')
    .option('--limit <n>', 'how many', positiveInt('--limit'), 50)
    .option('--cursor <cursor>', 'next_cursor from a previous page')
    .option('--repo <dir>', 'repository whose daemon to use')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const client = connectDaemon(o.repo);
      const qs = new URLSearchParams({ limit: String(o.limit) });
      if (o.status) qs.set('status', o.status);
      if (o.cursor) qs.set('cursor', o.cursor);
      const r = await client.request<{ jobs: JobRecord[]; next_cursor: string | null }>('GET', `/jobs?${qs}`);
      printResult(o.json, r, (v: typeof r) =>
        v.jobs.length === 0
          ? 'no jobs'
          : table([
              ['ID', 'STATUS', 'AGENT', 'CREATED', 'PROMPT'],
              ...v.jobs.map((j) => [j.id, j.status, j.agent, j.created_at, j.prompt.replace(/\s+/g, ' ').slice(0, 50)]),
            ]) + (v.next_cursor ? `\nmore: --cursor ${v.next_cursor}` : ''),
      );
    });
  jobs
    .command('show')
    .description('show one job')
    .argument('<id>')
    .option('--repo <dir>', 'repository whose daemon to use')
    .option('--json', 'print JSON')
    .action(async (id: string, o) => {
      const client = connectDaemon(o.repo);
      const job = await client.request<JobRecord>('GET', `/jobs/${encodeURIComponent(id)}`);
      printResult(o.json, job, (j) => describeJob(j, client.repo));
    });
  jobs
    .command('logs')
    .description("print a job's events (status changes, agent output, log lines)")
    .argument('<id>')
    .option('--follow', 'keep following until the job ends')
    .option('--repo <dir>', 'repository whose daemon to use')
    .option('--json', 'one JSON event per line')
    .action(async (id: string, o) => {
      const client = connectDaemon(o.repo);
      if (o.follow) {
        await follow(client, id, !!o.json);
        return;
      }
      // Without --follow: what has happened so far, then stop.
      const ctrl = new AbortController();
      const res = await client.fetch(`/jobs/${encodeURIComponent(id)}/events`, { signal: ctrl.signal });
      if (!res.ok || !res.body) {
        await client.request('GET', `/jobs/${encodeURIComponent(id)}`);
        return;
      }
      const idle = (): NodeJS.Timeout => setTimeout(() => ctrl.abort(), 300);
      let timer = idle();
      try {
        for await (const msg of readSse(res.body)) {
          clearTimeout(timer);
          const e = JSON.parse(msg.data) as JobEvent;
          if (o.json) process.stdout.write(JSON.stringify(e) + '\n');
          else {
            const line = renderEvent(e);
            if (line !== undefined) process.stdout.write(line + '\n');
          }
          timer = idle();
        }
      } catch (err) {
        if (!ctrl.signal.aborted) throw err;
      } finally {
        clearTimeout(timer);
      }
    });
  jobs
    .command('cancel')
    .description('cancel a queued or running job (kills its process group)')
    .argument('<id>')
    .option('--repo <dir>', 'repository whose daemon to use')
    .option('--no-wait', 'return once the cancel is sent, without waiting for the job to stop')
    .option('--json', 'print JSON')
    .action(async (id: string, o) => {
      const client = connectDaemon(o.repo);
      const r = await client.request<{ job_id: string; status: string }>('POST', `/jobs/${encodeURIComponent(id)}/cancel`);
      // A running job stops once its process group is killed: report the status it ends in.
      const job = o.wait && !FINISHED_STATUSES.has(r.status as JobRecord['status']) ? await waitDone(client, id) : undefined;
      const final = { job_id: r.job_id, status: job?.status ?? r.status };
      printResult(o.json, final, (v) => `${v.job_id} ${v.status}${job?.error && job.error !== 'cancelled' ? ` (${job.error})` : ''}`);
    });
}
