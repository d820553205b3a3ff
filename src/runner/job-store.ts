import type { Statement } from 'better-sqlite3';
import type { Db } from '../lib/sqlite.js';
import type { DiffStat, JobEvent, JobEventType, JobRecord, JobStatus, Usage } from './types.js';
import type { PermissionLevel } from './agents/permissions.js';

/** A job row as stored: times are epoch milliseconds, structured fields JSON text. */
interface JobRow {
  seq: number;
  id: string;
  status: JobStatus;
  agent: string;
  model: string | null;
  permissions: PermissionLevel | null;
  prompt: string;
  timeout_s: number;
  base_ref: string | null;
  metadata: string | null;
  source: string;
  created_at: number;
  started_at: number | null;
  running_at: number | null;
  finished_at: number | null;
  exit_code: number | null;
  result: string | null;
  usage: string | null;
  branch: string | null;
  commits: string | null;
  diff_stat: string | null;
  workspace: string | null;
  error: string | null;
  pgid: number | null;
}

export interface NewJob {
  id: string;
  agent: string;
  model: string | null;
  permissions: PermissionLevel;
  prompt: string;
  timeout_s: number;
  base_ref: string | null;
  metadata: Record<string, unknown> | null;
  source: string;
  created_at: number;
}

/** Fields a transition may set; undefined leaves a column unchanged. */
export interface JobUpdate {
  status?: JobStatus;
  started_at?: number;
  running_at?: number;
  finished_at?: number;
  exit_code?: number | null;
  result?: string | null;
  usage?: Usage | null;
  branch?: string | null;
  commits?: string[] | null;
  diff_stat?: DiffStat | null;
  workspace?: string | null;
  error?: string | null;
  /** Process group of the job's running setup command or agent; null once it has ended. */
  pgid?: number | null;
}

/** A job as listings show it: the record without its metadata. */
export type ListedJob = Omit<JobRecord, 'metadata'>;

/** About this much text per listing page at most (prompts are up to max_prompt_bytes each). */
export const LIST_MAX_BYTES = 4 * 1024 * 1024;

/** Every column but metadata (which can be max_metadata_bytes per job). */
const LIST_COLUMNS = `seq, id, status, agent, model, prompt, timeout_s, base_ref, NULL AS metadata, source, created_at, started_at,
  running_at, finished_at, exit_code, result, usage, branch, commits, diff_stat, workspace, error`;

const JSON_COLUMNS = new Set(['usage', 'commits', 'diff_stat']);
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const parse = <T>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));

function toRecord(r: JobRow): JobRecord {
  return {
    id: r.id,
    status: r.status,
    agent: r.agent,
    model: r.model,
    permissions: r.permissions,
    prompt: r.prompt,
    timeout_s: r.timeout_s,
    base_ref: r.base_ref,
    metadata: parse(r.metadata),
    source: r.source,
    created_at: iso(r.created_at)!,
    started_at: iso(r.started_at),
    running_at: iso(r.running_at),
    finished_at: iso(r.finished_at),
    exit_code: r.exit_code,
    result: r.result,
    usage: parse(r.usage),
    branch: r.branch,
    commits: parse(r.commits),
    diff_stat: parse(r.diff_stat),
    error: r.error,
  };
}

/** Durable job rows and their event log. All SQL of the runner lives here. */
export class JobStore {
  private readonly stmts;
  /** Update statements by column set: transitions repeat the same few shapes. */
  private readonly updateStmts = new Map<string, Statement>();

  constructor(private readonly db: Db) {
    this.stmts = {
      insert: db.prepare(`INSERT INTO jobs (id, status, agent, model, permissions, prompt, timeout_s, base_ref, metadata, source, created_at)
        VALUES (@id, 'queued', @agent, @model, @permissions, @prompt, @timeout_s, @base_ref, @metadata, @source, @created_at)`),
      get: db.prepare('SELECT * FROM jobs WHERE id = ?'),
      byStatus: db.prepare('SELECT * FROM jobs WHERE status = ? ORDER BY seq'),
      interrupt: db.prepare(`UPDATE jobs SET status = 'failed', error = 'interrupted', finished_at = ?, pgid = NULL
        WHERE status IN ('preparing', 'running')`),
      leftoverGroups: db.prepare(`SELECT id, pgid FROM jobs WHERE status IN ('preparing', 'running') AND pgid IS NOT NULL`),
      keptWorkspaces: db.prepare('SELECT id, workspace FROM jobs WHERE workspace IS NOT NULL'),
      expired: db.prepare(`SELECT id, workspace FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ?
        AND status IN ('completed', 'failed', 'timed_out', 'cancelled')`),
      deleteJob: db.prepare('DELETE FROM jobs WHERE id = ?'),
      deleteEvents: db.prepare('DELETE FROM job_events WHERE job_id = ?'),
      appendEvent: db.prepare('INSERT INTO job_events (job_id, type, data, at) VALUES (?, ?, ?, ?)'),
      eventsSince: db.prepare('SELECT * FROM job_events WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?'),
    };
  }

  insert(job: NewJob): void {
    this.stmts.insert.run({ ...job, metadata: job.metadata ? JSON.stringify(job.metadata) : null });
  }

  get(id: string): JobRecord | undefined {
    const row = this.stmts.get.get(id) as JobRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Workspace path kept for a job, if any (not part of the public record). */
  workspaceOf(id: string): string | null {
    return (this.stmts.get.get(id) as JobRow | undefined)?.workspace ?? null;
  }

  update(id: string, patch: JobUpdate): void {
    const cols: string[] = [];
    const values: unknown[] = [];
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue;
      cols.push(`${k} = ?`);
      values.push(JSON_COLUMNS.has(k) && v !== null ? JSON.stringify(v) : v);
    }
    if (cols.length === 0) return;
    const sql = `UPDATE jobs SET ${cols.join(', ')} WHERE id = ?`;
    let stmt = this.updateStmts.get(sql);
    // Column names come from the JobUpdate keys above, never from input.
    if (!stmt) this.updateStmts.set(sql, (stmt = this.db.prepare(sql)));
    stmt.run(...values, id);
  }

  /**
   * Newest first; `cursor` is the seq of the last job of the previous page. Listings leave
   * metadata out (GET /jobs/:id has it) and stop at about LIST_MAX_BYTES of prompts, results
   * and errors, whatever the limit, so a page of huge jobs never balloons the daemon or its
   * answer: next_cursor then points at the rest.
   */
  list(opts: { status?: JobStatus; limit: number; cursor?: number; maxBytes?: number }): { jobs: ListedJob[]; next_cursor: string | null } {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.status) {
      where.push('status = ?');
      args.push(opts.status);
    }
    if (opts.cursor !== undefined) {
      where.push('seq < ?');
      args.push(opts.cursor);
    }
    const sql = `SELECT ${LIST_COLUMNS} FROM jobs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC LIMIT ?`;
    const budget = opts.maxBytes ?? LIST_MAX_BYTES;
    const jobs: ListedJob[] = [];
    let bytes = 0;
    let last: number | undefined;
    let more = false;
    for (const row of this.db.prepare(sql).iterate(...args, opts.limit + 1) as Iterable<JobRow>) {
      const size = 512 + row.prompt.length + (row.result?.length ?? 0) + (row.error?.length ?? 0);
      if (jobs.length === opts.limit || (jobs.length > 0 && bytes + size > budget)) {
        more = true;
        break;
      }
      bytes += size;
      const { metadata: _left, ...listed } = toRecord(row);
      jobs.push(listed);
      last = row.seq;
    }
    return { jobs, next_cursor: more && last !== undefined ? String(last) : null };
  }

  queuedInOrder(): JobRecord[] {
    return (this.stmts.byStatus.all('queued') as JobRow[]).map(toRecord);
  }

  /** Process groups recorded for jobs that were preparing or running when the daemon died. */
  leftoverGroups(): { id: string; pgid: number }[] {
    return this.stmts.leftoverGroups.all() as { id: string; pgid: number }[];
  }

  /** Workspace directories the store still points at, by job id. */
  keptWorkspaces(): Map<string, string> {
    const rows = this.stmts.keptWorkspaces.all() as { id: string; workspace: string }[];
    return new Map(rows.map((r) => [r.id, r.workspace]));
  }

  /** Jobs that were preparing or running when the daemon died: they cannot be resumed. */
  markInterrupted(now: number): number {
    return this.stmts.interrupt.run(now).changes;
  }

  /**
   * Delete finished jobs (and their events) that finished before `before`; returns them with
   * the workspace each kept (a failed job's), which the caller removes from disk.
   */
  evictFinishedBefore(before: number): { id: string; workspace: string | null }[] {
    const rows = this.stmts.expired.all(before) as { id: string; workspace: string | null }[];
    if (rows.length === 0) return rows;
    this.db.transaction(() => {
      for (const { id } of rows) {
        this.stmts.deleteEvents.run(id);
        this.stmts.deleteJob.run(id);
      }
    })();
    return rows;
  }

  appendEvent(jobId: string, type: JobEventType, data: Record<string, unknown>, at: number): JobEvent {
    const r = this.stmts.appendEvent.run(jobId, type, JSON.stringify(data), at);
    return { id: Number(r.lastInsertRowid), job_id: jobId, type, data, at: new Date(at).toISOString() };
  }

  eventsSince(jobId: string, afterId: number, limit = 10_000): JobEvent[] {
    const rows = this.stmts.eventsSince.all(jobId, afterId, limit) as {
      id: number;
      job_id: string;
      type: JobEventType;
      data: string;
      at: number;
    }[];
    return rows.map((r) => ({ id: r.id, job_id: r.job_id, type: r.type, data: JSON.parse(r.data), at: iso(r.at)! }));
  }
}
