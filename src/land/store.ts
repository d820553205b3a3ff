import type { Db } from '../lib/sqlite.js';
import type { Entry, EntryStatus, Evidence, JobLanding, LandEvent, LandEventType } from './types.js';

interface EntryRow {
  seq: number;
  id: string;
  job_id: string;
  branch: string;
  head: string;
  target: string;
  status: EntryStatus;
  attempt: number;
  tries: number;
  landed_commit: string | null;
  evidence: string | null;
  follow_up: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
}

interface JobRow {
  job_id: string;
  land: number;
  reserve: string | null;
  task_id: string | null;
  parent_job_id: string | null;
  depth: number;
  attempt: number;
  follow_up_of: string | null;
  reservation_id: string | null;
  held: number;
  waiting: string | null;
  overtakes: number;
  created_at: number;
}

export interface NewEntry {
  id: string;
  job_id: string;
  branch: string;
  head: string;
  target: string;
  attempt: number;
  created_at: number;
}

export interface EntryUpdate {
  status?: EntryStatus;
  landed_commit?: string | null;
  evidence?: Evidence | null;
  follow_up?: Entry['follow_up'];
  error?: string | null;
  head?: string;
}

export type NewJobLanding = Pick<JobLanding, 'job_id' | 'land' | 'reserve' | 'task_id' | 'parent_job_id' | 'depth' | 'attempt' | 'follow_up_of'>;

const iso = (ms: number): string => new Date(ms).toISOString();
const parse = <T>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));

function toEntry(r: EntryRow): Entry {
  return {
    id: r.id,
    job_id: r.job_id,
    branch: r.branch,
    head: r.head,
    target: r.target,
    status: r.status,
    attempt: r.attempt,
    tries: r.tries,
    landed_commit: r.landed_commit,
    evidence: parse(r.evidence),
    follow_up: parse(r.follow_up),
    error: r.error,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
  };
}

function toJob(r: JobRow): JobLanding {
  return {
    job_id: r.job_id,
    land: r.land === 1,
    reserve: parse(r.reserve),
    task_id: r.task_id,
    parent_job_id: r.parent_job_id,
    depth: r.depth,
    attempt: r.attempt,
    follow_up_of: r.follow_up_of,
    reservation_id: r.reservation_id,
    held: r.held === 1,
    waiting: parse(r.waiting),
    overtakes: r.overtakes,
  };
}

/** All SQL of the merge queue: entries, what jobs asked for at submission, and transition events. */
export class LandStore {
  private readonly s;

  constructor(private readonly db: Db) {
    this.s = {
      insertEntry: db.prepare(`INSERT INTO land_entries (id, job_id, branch, head, target, status, attempt, created_at, updated_at)
        VALUES (@id, @job_id, @branch, @head, @target, 'queued', @attempt, @created_at, @created_at)`),
      getEntry: db.prepare('SELECT * FROM land_entries WHERE id = ?'),
      entriesOfJob: db.prepare('SELECT * FROM land_entries WHERE job_id = ? ORDER BY seq'),
      byStatus: db.prepare('SELECT * FROM land_entries WHERE status = ? ORDER BY seq LIMIT ?'),
      recent: db.prepare('SELECT * FROM land_entries ORDER BY seq DESC LIMIT ?'),
      recentByStatus: db.prepare('SELECT * FROM land_entries WHERE status = ? ORDER BY seq DESC LIMIT ?'),
      queuedSeqs: db.prepare(`SELECT id FROM land_entries WHERE status = 'queued' ORDER BY seq`),
      countActive: db.prepare(`SELECT count(*) AS n FROM land_entries WHERE status IN ('queued', 'testing')`),
      beginTesting: db.prepare(`UPDATE land_entries SET status = 'testing', tries = tries + 1, updated_at = ? WHERE id = ? AND status = 'queued'`),
      requeueTesting: db.prepare(`UPDATE land_entries SET status = 'queued', updated_at = ? WHERE status = 'testing' RETURNING id, job_id`),
      insertJob: db.prepare(`INSERT INTO land_jobs (job_id, land, reserve, task_id, parent_job_id, depth, attempt, follow_up_of, created_at)
        VALUES (@job_id, @land, @reserve, @task_id, @parent_job_id, @depth, @attempt, @follow_up_of, @created_at)`),
      getJob: db.prepare('SELECT * FROM land_jobs WHERE job_id = ?'),
      markLand: db.prepare(`INSERT INTO land_jobs (job_id, land, created_at) VALUES (?, 1, ?)
        ON CONFLICT(job_id) DO UPDATE SET land = 1`),
      childCount: db.prepare('SELECT count(*) AS n FROM land_jobs WHERE parent_job_id = ?'),
      children: db.prepare('SELECT job_id FROM land_jobs WHERE parent_job_id = ? ORDER BY created_at LIMIT ?'),
      held: db.prepare('SELECT * FROM land_jobs WHERE held = 1'),
      hold: db.prepare('UPDATE land_jobs SET held = 1, reservation_id = ?, waiting = NULL WHERE job_id = ?'),
      holdClaim: db.prepare('UPDATE land_jobs SET held = 1 WHERE job_id = ?'),
      letGo: db.prepare('UPDATE land_jobs SET held = 0, waiting = NULL WHERE job_id = ?'),
      setWaiting: db.prepare('UPDATE land_jobs SET waiting = ? WHERE job_id = ?'),
      overtaken: db.prepare('UPDATE land_jobs SET overtakes = overtakes + 1 WHERE job_id = ?'),
      appendEvent: db.prepare('INSERT INTO land_events (entry_id, job_id, type, data, at) VALUES (?, ?, ?, ?, ?)'),
      eventsSince: db.prepare('SELECT * FROM land_events WHERE id > ? ORDER BY id LIMIT ?'),
      forgetEntries: db.prepare(`DELETE FROM land_entries WHERE job_id = ? AND status NOT IN ('queued', 'testing')`),
      forgetEvents: db.prepare(`DELETE FROM land_events WHERE job_id = ? AND NOT EXISTS
        (SELECT 1 FROM land_entries e WHERE e.job_id = land_events.job_id AND e.status IN ('queued', 'testing'))`),
      forgetJob: db.prepare(`DELETE FROM land_jobs WHERE job_id = ? AND held = 0 AND NOT EXISTS
        (SELECT 1 FROM land_entries e WHERE e.job_id = land_jobs.job_id AND e.status IN ('queued', 'testing'))`),
    };
  }

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  insertEntry(e: NewEntry): void {
    this.s.insertEntry.run(e);
  }

  entry(id: string): Entry | undefined {
    const r = this.s.getEntry.get(id) as EntryRow | undefined;
    return r ? toEntry(r) : undefined;
  }

  entriesOfJob(jobId: string): Entry[] {
    return (this.s.entriesOfJob.all(jobId) as EntryRow[]).map(toEntry);
  }

  /** Oldest first: the queue's order. */
  withStatus(status: EntryStatus, limit: number): Entry[] {
    return (this.s.byStatus.all(status, limit) as EntryRow[]).map(toEntry);
  }

  /** Newest first, for listings. */
  recent(limit: number, status?: EntryStatus): Entry[] {
    const rows = status ? this.s.recentByStatus.all(status, limit) : this.s.recent.all(limit);
    return (rows as EntryRow[]).map(toEntry);
  }

  queuedIds(): string[] {
    return (this.s.queuedSeqs.all() as { id: string }[]).map((r) => r.id);
  }

  activeCount(): number {
    return (this.s.countActive.get() as { n: number }).n;
  }

  /** queued → testing; false when the entry is no longer queued (removed meanwhile). */
  beginTesting(id: string, now: number): boolean {
    return this.s.beginTesting.run(now, id).changes === 1;
  }

  /** After a restart: entries caught mid-test go back to the queue in their old place. */
  requeueTesting(now: number): { id: string; job_id: string }[] {
    return this.s.requeueTesting.all(now) as { id: string; job_id: string }[];
  }

  updateEntry(id: string, patch: EntryUpdate, now: number): void {
    const cols: string[] = ['updated_at = ?'];
    const values: unknown[] = [now];
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue;
      cols.push(`${k} = ?`);
      values.push(k === 'evidence' || k === 'follow_up' ? (v === null ? null : JSON.stringify(v)) : v);
    }
    // Column names come from EntryUpdate's keys, never from input.
    this.db.prepare(`UPDATE land_entries SET ${cols.join(', ')} WHERE id = ?`).run(...values, id);
  }

  /**
   * Forget evicted jobs: their settled entries, events and landing metadata. An entry still
   * queued or under test, and a job still holding reservations, stay until they settle.
   */
  forgetJobs(jobIds: string[]): void {
    this.tx(() => {
      for (const id of jobIds) {
        this.s.forgetEvents.run(id);
        this.s.forgetEntries.run(id);
        this.s.forgetJob.run(id);
      }
    });
  }

  insertJob(j: NewJobLanding, now: number): void {
    this.s.insertJob.run({ ...j, land: j.land ? 1 : 0, reserve: j.reserve ? JSON.stringify(j.reserve) : null, created_at: now });
  }

  job(jobId: string): JobLanding | undefined {
    const r = this.s.getJob.get(jobId) as JobRow | undefined;
    return r ? toJob(r) : undefined;
  }

  /** The job lands when it completes (asked for after submission). */
  markLand(jobId: string, now: number): void {
    this.s.markLand.run(jobId, now);
  }

  childCount(jobId: string): number {
    return (this.s.childCount.get(jobId) as { n: number }).n;
  }

  children(jobId: string, limit: number): string[] {
    return (this.s.children.all(jobId, limit) as { job_id: string }[]).map((r) => r.job_id);
  }

  /** Jobs whose reservations or claim are held (heartbeated) right now. */
  heldJobs(): JobLanding[] {
    return (this.s.held.all() as JobRow[]).map(toJob);
  }

  hold(jobId: string, reservationId: string | null): void {
    if (reservationId) this.s.hold.run(reservationId, jobId);
    else this.s.holdClaim.run(jobId);
  }

  letGo(jobId: string): void {
    this.s.letGo.run(jobId);
  }

  setWaiting(jobId: string, waiting: JobLanding['waiting']): void {
    this.s.setWaiting.run(waiting ? JSON.stringify(waiting) : null, jobId);
  }

  overtaken(jobId: string): void {
    this.s.overtaken.run(jobId);
  }

  appendEvent(entryId: string, jobId: string, type: LandEventType, data: Record<string, unknown>, at: number): LandEvent {
    const r = this.s.appendEvent.run(entryId, jobId, type, JSON.stringify(data), at);
    return { id: Number(r.lastInsertRowid), entry_id: entryId, job_id: jobId, type, data, at: iso(at) };
  }

  eventsSince(afterId: number, limit = 10_000): LandEvent[] {
    const rows = this.s.eventsSince.all(afterId, limit) as { id: number; entry_id: string; job_id: string; type: LandEventType; data: string; at: number }[];
    return rows.map((r) => ({ id: r.id, entry_id: r.entry_id, job_id: r.job_id, type: r.type, data: JSON.parse(r.data), at: iso(r.at) }));
  }
}
