import type { Command } from 'commander';
import { InvalidInputError } from '../lib/errors.js';
import type { QueueStatus } from '../land/index.js';
// The types module only: a CLI command loads no domain code.
import { ENTRY_STATUSES, type Entry } from '../land/types.js';
import { connectDaemon } from './client.js';
import { printResult, table } from './output.js';

function limit(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidInputError(`--limit must be a whole number from 1 to 1000, got '${v}'`);
  return n;
}

function status(v: string): string {
  if (!(ENTRY_STATUSES as readonly string[]).includes(v)) throw new InvalidInputError(`--status must be one of ${ENTRY_STATUSES.join(', ')}, got '${v}'`);
  return v;
}

/** One line on what happened to an entry, and why when it did not land. */
function describeEntry(e: Entry): string {
  const lines = [`${e.id}  ${e.status}${e.position ? ` (position ${e.position})` : ''}  job ${e.job_id}  ${e.branch} → ${e.target}`];
  if (e.landed_commit) lines.push(`  landed as ${e.landed_commit}`);
  if (e.evidence?.kind === 'conflict') lines.push(`  conflicts in: ${e.evidence.files?.join(', ') || '(see hunks)'}`);
  if (e.evidence?.kind === 'check') {
    lines.push(`  check ${e.evidence.timed_out ? 'timed out' : `failed (exit ${e.evidence.exit_code})`}; last lines:`);
    lines.push(...(e.evidence.output_tail ?? '').trimEnd().split('\n').slice(-10).map((l) => `    ${l}`));
  }
  if (e.follow_up?.job_id) lines.push(`  follow-up job ${e.follow_up.job_id}`);
  if (e.follow_up?.task_id) lines.push(`  follow-up task ${e.follow_up.task_id}`);
  if (e.error) lines.push(`  ${e.error}`);
  return lines.join('\n');
}

export function registerLand(program: Command): void {
  program
    .command('land')
    .description("queue a job's branch in the merge queue (a job still running lands when it completes)")
    .argument('<job>', 'job id')
    .option('--repo <dir>', 'repository whose daemon to use')
    .option('--json', 'print JSON')
    .action(async (job: string, o) => {
      const r = await connectDaemon(o.repo).request<{ job_id: string; entry: Entry | null; message?: string }>('POST', `/jobs/${encodeURIComponent(job)}/land`);
      printResult(o.json, r, (v: typeof r) => (v.entry ? `queued ${describeEntry(v.entry)}` : v.message!));
    });

}

export function registerQueue(program: Command): void {
  const queue = program.command('queue').description('the merge queue: list, retry and remove entries');
  queue
    .command('ls')
    .description('entries, newest first, and whether the queue is moving')
    .option('--status <status>', `only entries with this status (${ENTRY_STATUSES.join(', ')})`, status)
    .option('--limit <n>', 'how many', limit, 50)
    .option('--repo <dir>', 'repository whose daemon to use')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const qs = new URLSearchParams({ limit: String(o.limit) });
      if (o.status) qs.set('status', o.status);
      const r = await connectDaemon(o.repo).request<QueueStatus>('GET', `/merge-queue?${qs}`);
      printResult(o.json, r, (v: QueueStatus) => {
        const head = [`target ${v.target || '(none)'}${v.blocked ? `\nPAUSED: ${v.blocked}` : ''}`];
        if (v.entries.length === 0) return [...head, 'no entries'].join('\n');
        return [
          ...head,
          table([
            ['ENTRY', 'STATUS', 'JOB', 'ATTEMPT', 'DETAIL'],
            ...v.entries.map((e) => [
              e.id,
              e.status + (e.position ? ` #${e.position}` : ''),
              e.job_id,
              String(e.attempt),
              e.landed_commit ?? (e.evidence ? (e.evidence.kind === 'conflict' ? `conflict: ${e.evidence.files?.join(', ')}` : 'check failed') : ''),
            ]),
          ]),
        ].join('\n');
      });
    });
  queue
    .command('retry')
    .description("queue a conflicted, failed or removed entry again (at the end), taking its job's reservations and task claim again (refused while another run holds them)")
    .argument('<entry>', 'entry id')
    .option('--repo <dir>', 'repository whose daemon to use')
    .option('--json', 'print JSON')
    .action(async (id: string, o) => {
      const r = await connectDaemon(o.repo).request<Entry>('POST', `/merge-queue/${encodeURIComponent(id)}/retry`);
      printResult(o.json, r, describeEntry);
    });
  queue
    .command('rm')
    .description('take an entry out of the queue (its reservations and task claim are given back)')
    .argument('<entry>', 'entry id')
    .option('--repo <dir>', 'repository whose daemon to use')
    .option('--json', 'print JSON')
    .action(async (id: string, o) => {
      const r = await connectDaemon(o.repo).request<Entry>('POST', `/merge-queue/${encodeURIComponent(id)}/remove`);
      printResult(o.json, r, describeEntry);
    });
}
