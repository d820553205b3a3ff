import type { SwarmTask, SwarmView } from '../swarm/index.js';
import type { QueueEntryView } from './client.js';

const STATE_WORDS: Record<SwarmTask['state'], string> = {
  waiting: 'waiting for its dependencies',
  ready: 'ready',
  running: 'running',
  landing: 'in the merge queue',
  landed: 'landed',
  stuck: 'stuck',
  cancelled: 'cancelled',
};

/**
 * Turns successive swarm views and merge-queue listings into one line per thing that
 * happened: a task changed state, a branch conflicted and got a follow-up job.
 */
export class ProgressLog {
  private readonly seen = new Map<string, string>();
  private readonly conflicts = new Set<string>();
  private landed = 0;

  constructor(private readonly out: (line: string) => void) {}

  swarm(view: SwarmView): void {
    for (const t of view.tasks) {
      const name = t.key ?? t.task_id;
      const mark = `${t.state}:${t.job_id ?? ''}`;
      if (this.seen.get(t.task_id) === mark) continue;
      const first = !this.seen.has(t.task_id);
      this.seen.set(t.task_id, mark);
      if (first && (t.state === 'waiting' || t.state === 'ready')) continue;
      const who = t.worker ? ` (agent ${t.worker}${t.job_id ? `, job ${t.job_id}` : ''})` : '';
      const head = t.state === 'landed' ? `✓ [${++this.landed}/${view.tasks.length}]` : t.state === 'stuck' ? '✗' : '·';
      this.out(`  ${head} ${name} ${STATE_WORDS[t.state]}${t.state === 'running' || t.state === 'landing' ? who : ''}${t.reason && t.state === 'stuck' ? `: ${t.reason}` : ''}`);
    }
  }

  queue(entries: QueueEntryView[], tasks: SwarmTask[]): void {
    for (const e of entries) {
      if (e.status !== 'conflicted' || this.conflicts.has(e.id) || !e.follow_up?.job_id) continue;
      this.conflicts.add(e.id);
      const task = tasks.find((t) => t.job_ids.includes(e.job_id));
      const files = e.evidence?.files?.length ? ` in ${e.evidence.files.join(', ')}` : '';
      this.out(`  ⚡ ${task?.key ?? e.job_id} conflicted${files} with work that landed first; follow-up job ${e.follow_up.job_id} redoes it on the new tip`);
    }
  }
}
