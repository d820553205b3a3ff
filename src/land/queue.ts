import { EventEmitter } from 'node:events';
import type { Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import { ConflictError, NotFoundError } from '../lib/errors.js';
import type { EntryUpdate, LandStore } from './store.js';
import { ACTIVE_ENTRY_STATUSES, type Entry, type EntryStatus, type LandEvent } from './types.js';

/**
 * The durable FIFO of entries and their transitions. Every transition is a row update and
 * an event (stored, then emitted), so followers can replay what they missed. Order is the
 * insertion order: an entry sent back to `queued` keeps its place at the front.
 */
export class MergeQueue {
  private readonly events = new EventEmitter();

  constructor(
    readonly store: LandStore,
    private readonly clock: Clock,
  ) {
    this.events.setMaxListeners(0);
  }

  get(id: string): Entry {
    const e = this.store.entry(id);
    if (!e) throw new NotFoundError(`no merge-queue entry ${id}`);
    return e.status === 'queued' ? { ...e, position: this.positionOf(id) } : e;
  }

  positionOf(id: string): number {
    return this.store.queuedIds().indexOf(id) + 1;
  }

  list(opts: { status?: EntryStatus; limit: number }): Entry[] {
    const ids = this.store.queuedIds();
    return this.store.recent(opts.limit, opts.status).map((e) => (e.status === 'queued' ? { ...e, position: ids.indexOf(e.id) + 1 } : e));
  }

  /** The job's newest entry, if it ever entered the queue. */
  latestOfJob(jobId: string): Entry | undefined {
    return this.store.entriesOfJob(jobId).at(-1);
  }

  enqueue(input: { job_id: string; branch: string; head: string; target: string; attempt: number }): Entry {
    return this.store.tx(() => {
      const active = this.store.entriesOfJob(input.job_id).find((e) => ACTIVE_ENTRY_STATUSES.has(e.status));
      if (active) throw new ConflictError(`job ${input.job_id} is already in the merge queue as ${active.id} (${active.status})`);
      const now = this.clock.now();
      const id = newId('land', now);
      this.store.insertEntry({ id, created_at: now, ...input });
      this.record(id, input.job_id, { status: 'queued', head: input.head, target: input.target, attempt: input.attempt }, now);
      return this.get(id);
    });
  }

  /** The entry, when it may be retried (conflicted, red or removed); a 409 otherwise. */
  retryable(id: string): Entry {
    const e = this.get(id);
    if (ACTIVE_ENTRY_STATUSES.has(e.status) || e.status === 'landed') throw new ConflictError(`entry ${id} is ${e.status}; only conflicted, failed_check or removed entries can be retried`);
    return e;
  }

  /** Put a conflicted, red or removed entry back at the end of the queue as a new entry. */
  retry(id: string): Entry {
    const e = this.retryable(id);
    return this.enqueue({ job_id: e.job_id, branch: e.branch, head: e.head, target: e.target, attempt: e.attempt });
  }

  /** Take an entry out of the queue (or drop a settled one from consideration); a landed entry stays landed. */
  remove(id: string): Entry {
    const e = this.get(id);
    if (e.status === 'landed' || e.status === 'removed') throw new ConflictError(`entry ${id} is already ${e.status}`);
    this.transition(e, 'removed', {});
    return this.get(id);
  }

  /** The oldest `n` queued entries, moved to `testing` (a removal racing with this wins). */
  takeBatch(n: number): Entry[] {
    return this.store.tx(() => {
      const now = this.clock.now();
      const out: Entry[] = [];
      for (const e of this.store.withStatus('queued', n)) {
        if (!this.store.beginTesting(e.id, now)) continue;
        this.record(e.id, e.job_id, { status: 'testing', try: e.tries + 1 }, now);
        out.push({ ...e, status: 'testing', tries: e.tries + 1 });
      }
      return out;
    });
  }

  /** After a restart: entries that were being tested go back to the queue, in their place. */
  recover(): number {
    const now = this.clock.now();
    const back = this.store.requeueTesting(now);
    for (const e of back) this.record(e.id, e.job_id, { status: 'queued', reason: 'the daemon stopped while it was being tested; retrying' }, now);
    return back.length;
  }

  /** Is the entry still what the integrator thinks (not removed while it was tested)? */
  isTesting(id: string): boolean {
    return this.store.entry(id)?.status === 'testing';
  }

  transition(e: Pick<Entry, 'id' | 'job_id'>, status: EntryStatus, patch: Omit<EntryUpdate, 'status'>, extra: Record<string, unknown> = {}): void {
    const now = this.clock.now();
    this.store.updateEntry(e.id, { ...patch, status }, now);
    const data: Record<string, unknown> = { status, ...extra };
    if (patch.landed_commit) data.landed_commit = patch.landed_commit;
    if (patch.evidence) data.evidence = patch.evidence;
    if (patch.follow_up) data.follow_up = patch.follow_up;
    this.record(e.id, e.job_id, data, now);
  }

  /** Note something about an entry without changing its status (a follow-up started, say). */
  note(e: Pick<Entry, 'id' | 'job_id'>, patch: Omit<EntryUpdate, 'status'>, data: Record<string, unknown>): void {
    const now = this.clock.now();
    this.store.updateEntry(e.id, patch, now);
    this.record(e.id, e.job_id, data, now);
  }

  eventsSince(afterId: number): LandEvent[] {
    return this.store.eventsSince(afterId);
  }

  subscribe(listener: (e: LandEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  private record(entryId: string, jobId: string, data: Record<string, unknown>, now: number): void {
    const ev = this.store.appendEvent(entryId, jobId, 'entry', { entry_id: entryId, job_id: jobId, ...data }, now);
    this.events.emit('event', ev);
  }
}
