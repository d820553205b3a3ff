import type { Statement, Transaction } from 'better-sqlite3';
import type { Db } from '../lib/sqlite.js';
import type { RecordKind, WireRecord } from './wire.js';

/** A reservation row; `effective_expires_at` includes its run's heartbeat extension. */
export interface ReservationRow {
  reservation_id: string;
  record_id: string;
  run_id: string;
  mode: 'exclusive' | 'shared';
  symbols: string;
  created_at: number;
  expires_at: number;
  released_at: number | null;
  origin: string;
  effective_expires_at: number;
}

/** A live reservation with one of its symbols (conflict candidates). */
export interface HolderRow extends ReservationRow {
  path: string;
  name: string | null;
  glob: number;
  prefix: string;
}

export interface TaskRow {
  task_id: string;
  record_id: string;
  run_id: string;
  description: string;
  priority: number;
  depends_on: string;
  created_at: number;
  completed_at: number | null;
  completed_by: string | null;
  origin: string;
}

export interface ClaimRow {
  task_id: string;
  /** The colony whose record holds the claim ('local' for this one). */
  origin: string;
  record_id: string;
  claimer_run_id: string;
  claimed_at: number;
  expires_at: number;
  effective_expires_at: number;
}

/** Where a page of gathered records left off. */
export interface GatherCursor {
  created_at: number;
  record_id: string;
}

/**
 * The run's latest heartbeat over every origin, among those sent while a row expiring at
 * `expires` was still live: a heartbeat never revives what had already expired.
 */
const HB = (run: string, expires: string, origin: string): string =>
  `COALESCE((SELECT MAX(h.extended_expires_at) FROM coord_heartbeats h JOIN coord_records hr ON hr.record_id = h.record_id
    WHERE h.run_id = ${run} AND h.origin = ${origin} AND hr.created_at <= ${expires}), 0)`;
const EFFECTIVE = `MAX(r.expires_at, r.hb_until)`;
const RES_COLS = `r.*, ${EFFECTIVE} AS effective_expires_at`;
const LIVE = `r.released_at IS NULL AND ${EFFECTIVE} > @now`;
const HOLDER_COLS = `${RES_COLS}, s.path, s.name, s.glob, s.prefix`;
const CLAIM_EFFECTIVE = `CASE WHEN c.ended = 1 THEN c.expires_at ELSE MAX(c.expires_at, c.hb_until) END`;
const DEAD_RESERVATION = `(r.released_at IS NOT NULL AND r.released_at < @cutoff) OR (r.released_at IS NULL AND ${EFFECTIVE} < @cutoff)`;

/** Every fixed statement of the coordination layer, by name. */
const SQL = {
  insertRecord: `INSERT OR IGNORE INTO coord_records (record_id, kind, run_id, payload, created_at, expires_at, origin)
    VALUES (@record_id, @kind, @run_id, @payload, @created_at, @expires_at, @origin)`,
  deleteRecord: 'DELETE FROM coord_records WHERE record_id = ?',
  // The sync layer's mark that a hub has a record; it goes with the record.
  deletePushMark: 'DELETE FROM coord_pushed WHERE record_id = ?',
  hasRecord: 'SELECT 1 FROM coord_records WHERE record_id = ?',

  // ---- reservations and their symbols
  insertReservation: `INSERT INTO coord_reservations (reservation_id, record_id, run_id, mode, symbols, created_at, expires_at, hb_until, released_at, origin)
    VALUES (@reservation_id, @record_id, @run_id, @mode, @symbols, @created_at, @expires_at, ${HB('@run_id', '@expires_at', '@origin')},
      -- A release pulled before its reservation (hub batches may cross) still applies, if it
      -- came from the same colony and run: no one else can release it.
      (SELECT MIN(rl.released_at) FROM coord_releases rl JOIN coord_records rr ON rr.record_id = rl.record_id
        WHERE rl.reservation_id = @reservation_id AND rl.run_id = @run_id AND rr.origin = @origin), @origin)`,
  insertSymbol: 'INSERT INTO coord_symbols (reservation_id, path, name, glob, prefix) VALUES (?, ?, ?, ?, ?)',
  getReservation: `SELECT ${RES_COLS} FROM coord_reservations r WHERE r.reservation_id = ?`,
  holdersOfPath: `SELECT ${HOLDER_COLS} FROM coord_symbols s JOIN coord_reservations r ON r.reservation_id = s.reservation_id
    WHERE s.path = @path AND ${LIVE}`,
  holdersUnder: `SELECT ${HOLDER_COLS} FROM coord_symbols s JOIN coord_reservations r ON r.reservation_id = s.reservation_id
    WHERE s.path >= @prefix AND s.path < @upper AND ${LIVE}`,
  liveGlobHolders: `SELECT ${HOLDER_COLS} FROM coord_symbols s JOIN coord_reservations r ON r.reservation_id = s.reservation_id
    WHERE s.glob = 1 AND ${LIVE}`,
  // Only the columns status shows, in insertion order (an ORDER BY would sort wide rows).
  liveReservations: `SELECT reservation_id, run_id, mode, symbols, eff AS effective_expires_at FROM (
      SELECT r.reservation_id, r.run_id, r.mode, r.symbols, ${EFFECTIVE} AS eff FROM coord_reservations r WHERE r.released_at IS NULL)
    WHERE eff > @now`,
  liveReservationsOfRun: `SELECT ${RES_COLS} FROM coord_reservations r WHERE r.run_id = @run_id AND ${LIVE} ORDER BY r.created_at`,
  markReleased: 'UPDATE coord_reservations SET released_at = ? WHERE reservation_id = ? AND released_at IS NULL',
  insertRelease: `INSERT OR IGNORE INTO coord_releases (release_id, record_id, reservation_id, run_id, released_at)
    VALUES (@release_id, @record_id, @reservation_id, @run_id, @released_at)`,
  insertIntent: `INSERT INTO coord_intents (intent_id, record_id, run_id, reservation_id, operation, target, created_at)
    VALUES (@intent_id, @record_id, @run_id, @reservation_id, @operation, @target, @created_at)`,
  getDependency: 'SELECT record_id FROM coord_dependencies WHERE reservation_id = ?',
  upsertDependency: `INSERT INTO coord_dependencies (reservation_id, record_id, depends_on) VALUES (@reservation_id, @record_id, @depends_on)
    ON CONFLICT (reservation_id) DO UPDATE SET record_id = excluded.record_id, depends_on = excluded.depends_on`,

  // ---- heartbeats: the latest per run and origin, copied onto the run's live rows
  getHeartbeat: 'SELECT record_id, extended_expires_at FROM coord_heartbeats WHERE run_id = ? AND origin = ?',
  upsertHeartbeat: `INSERT INTO coord_heartbeats (run_id, origin, record_id, extended_expires_at) VALUES (@run_id, @origin, @record_id, @extended_expires_at)
    ON CONFLICT (run_id, origin) DO UPDATE SET record_id = excluded.record_id, extended_expires_at = excluded.extended_expires_at`,
  // A heartbeat extends only what its own colony holds.
  extendReservations: `UPDATE coord_reservations AS r SET hb_until = @until
    WHERE r.run_id = @run_id AND r.origin = @origin AND r.hb_until < @until AND r.released_at IS NULL AND ${EFFECTIVE} > @at`,
  extendClaims: `UPDATE coord_claims AS c SET hb_until = @until
    WHERE c.claimer_run_id = @run_id AND (SELECT origin FROM coord_records cr WHERE cr.record_id = c.record_id) = @origin AND c.hb_until < @until AND c.ended = 0 AND ${CLAIM_EFFECTIVE} > @at`,
  liveClaimsOfRun: `SELECT COUNT(*) AS n FROM coord_claims c WHERE c.claimer_run_id = @run_id AND ${CLAIM_EFFECTIVE} > @now`,

  // ---- tasks and claims
  upsertTask: `INSERT INTO coord_tasks (task_id, record_id, run_id, description, priority, depends_on, created_at, completed_at, completed_by, origin)
    VALUES (@task_id, @record_id, @run_id, @description, @priority, @depends_on, @created_at, @completed_at, @completed_by, @origin)
    ON CONFLICT (task_id) DO UPDATE SET record_id = excluded.record_id, depends_on = excluded.depends_on,
      completed_at = COALESCE(coord_tasks.completed_at, excluded.completed_at),
      completed_by = COALESCE(coord_tasks.completed_by, excluded.completed_by)`,
  getTask: 'SELECT * FROM coord_tasks WHERE task_id = ?',
  tasksOfRun: 'SELECT * FROM coord_tasks WHERE run_id = ? ORDER BY created_at, task_id LIMIT ?',
  recordPayload: 'SELECT payload FROM coord_records WHERE record_id = ?',
  insertTaskDep: 'INSERT OR IGNORE INTO coord_task_deps (task_id, depends_on) VALUES (?, ?)',
  openDependencies: `SELECT d.depends_on FROM coord_task_deps d JOIN coord_tasks u ON u.task_id = d.depends_on
    WHERE d.task_id = ? AND u.completed_at IS NULL ORDER BY d.depends_on`,
  readyTasks: `SELECT t.* FROM coord_tasks t
    WHERE t.completed_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM coord_claims c WHERE c.task_id = t.task_id AND ${CLAIM_EFFECTIVE} > @now)
      AND NOT EXISTS (SELECT 1 FROM coord_task_deps d JOIN coord_tasks u ON u.task_id = d.depends_on
                      WHERE d.task_id = t.task_id AND u.completed_at IS NULL)
    ORDER BY t.priority DESC, t.created_at, t.task_id LIMIT @limit`,
  listTasks: `SELECT t.*, CASE WHEN ${CLAIM_EFFECTIVE} > @now THEN c.claimer_run_id END AS claimed_by
    FROM coord_tasks t LEFT JOIN coord_claims c ON c.task_id = t.task_id ORDER BY t.created_at, t.task_id LIMIT @limit`,
  getClaim: `SELECT c.*, ${CLAIM_EFFECTIVE} AS effective_expires_at,
    (SELECT origin FROM coord_records cr WHERE cr.record_id = c.record_id) AS origin FROM coord_claims c WHERE c.task_id = ?`,
  runOrigins: `SELECT origin FROM coord_reservations WHERE run_id = @run_id
    UNION SELECT cr.origin FROM coord_claims c JOIN coord_records cr ON cr.record_id = c.record_id WHERE c.claimer_run_id = @run_id`,
  upsertClaim: `INSERT INTO coord_claims (task_id, record_id, claimer_run_id, claimed_at, expires_at, hb_until, ended)
    VALUES (@task_id, @record_id, @claimer_run_id, @claimed_at, @expires_at, ${HB('@claimer_run_id', '@expires_at', '@origin')}, @ended)
    ON CONFLICT (task_id) DO UPDATE SET record_id = excluded.record_id, claimer_run_id = excluded.claimer_run_id,
      claimed_at = excluded.claimed_at, expires_at = excluded.expires_at, hb_until = excluded.hb_until, ended = excluded.ended`,

  // ---- gc: everything dead for longer than the grace period
  deadReservations: `SELECT r.reservation_id, r.record_id FROM coord_reservations r WHERE ${DEAD_RESERVATION}`,
  intentsOf: 'SELECT record_id FROM coord_intents WHERE reservation_id = ?',
  releasesOf: 'SELECT record_id FROM coord_releases WHERE reservation_id = ?',
  deleteReservation: 'DELETE FROM coord_reservations WHERE reservation_id = ?',
  deleteSymbols: 'DELETE FROM coord_symbols WHERE reservation_id = ?',
  deleteIntents: 'DELETE FROM coord_intents WHERE reservation_id = ?',
  deleteReleases: 'DELETE FROM coord_releases WHERE reservation_id = ?',
  // Tombstones and intents whose reservation is gone here (e.g. pulled after a local gc).
  orphanReleases: `SELECT rl.release_id, rl.record_id FROM coord_releases rl
    WHERE rl.released_at < @cutoff AND NOT EXISTS (SELECT 1 FROM coord_reservations r WHERE r.reservation_id = rl.reservation_id)`,
  orphanIntents: `SELECT i.intent_id, i.record_id FROM coord_intents i
    WHERE i.created_at < @cutoff AND NOT EXISTS (SELECT 1 FROM coord_reservations r WHERE r.reservation_id = i.reservation_id)`,
  deleteRelease: 'DELETE FROM coord_releases WHERE release_id = ?',
  deleteIntent: 'DELETE FROM coord_intents WHERE intent_id = ?',
  deleteDependency: 'DELETE FROM coord_dependencies WHERE reservation_id = ?',
  deadClaims: `SELECT c.task_id, c.record_id FROM coord_claims c WHERE ${CLAIM_EFFECTIVE} < @cutoff`,
  deleteClaim: 'DELETE FROM coord_claims WHERE task_id = ?',
  // Heartbeats of runs that hold nothing any more (asked after the deletes above).
  deadHeartbeats: `SELECT h.run_id, h.origin, h.record_id FROM coord_heartbeats h WHERE h.extended_expires_at < @cutoff
    AND NOT EXISTS (SELECT 1 FROM coord_reservations r WHERE r.run_id = h.run_id)
    AND NOT EXISTS (SELECT 1 FROM coord_claims c WHERE c.claimer_run_id = h.run_id)`,
  // The same question for a dry run, where the dead rows are still there.
  deadHeartbeatsIfCollected: `SELECT h.run_id, h.origin, h.record_id FROM coord_heartbeats h WHERE h.extended_expires_at < @cutoff
    AND NOT EXISTS (SELECT 1 FROM coord_reservations r WHERE r.run_id = h.run_id AND NOT (${DEAD_RESERVATION}))
    AND NOT EXISTS (SELECT 1 FROM coord_claims c WHERE c.claimer_run_id = h.run_id AND ${CLAIM_EFFECTIVE} >= @cutoff)`,
  deleteHeartbeat: 'DELETE FROM coord_heartbeats WHERE run_id = ? AND origin = ?',
} as const;

export type StatementName = keyof typeof SQL;

/** A row of `coord_records`: a record in wire form, its payload still JSON text. */
export interface RecordRow {
  record_id: string;
  kind: RecordKind;
  run_id: string;
  payload: string;
  created_at: number;
  expires_at: number | null;
  origin: string;
}

/**
 * All SQL of the coordination layer, prepared once. `coord_records` is the log of every
 * record in wire form (what gather and sync read); the other tables index it for the
 * queries, and both are always written in one transaction.
 */
export class CoordStore {
  private readonly s: Record<StatementName, Statement>;
  private readonly gathers = new Map<string, Statement>();
  private readonly inTx: Transaction<(fn: () => unknown) => unknown>;

  constructor(readonly db: Db) {
    this.s = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)])) as Record<StatementName, Statement>;
    this.inTx = db.transaction((fn: () => unknown) => fn());
  }

  /**
   * Run fn in one IMMEDIATE transaction: the write lock is taken before the first read, so
   * a check-then-insert is atomic across processes sharing the file, and a failure leaves
   * nothing half-written. Nested calls become savepoints.
   */
  tx<T>(fn: () => T): T {
    return this.inTx.immediate(fn) as T;
  }

  /** A consistent read-only snapshot (no write lock). */
  read<T>(fn: () => T): T {
    return this.inTx.deferred(fn) as T;
  }

  run(name: StatementName, params: unknown): number {
    return this.s[name].run(params as never).changes;
  }
  get<T>(name: StatementName, ...params: unknown[]): T | undefined {
    return this.s[name].get(...(params as never[])) as T | undefined;
  }
  all<T>(name: StatementName, ...params: unknown[]): T[] {
    return this.s[name].all(...(params as never[])) as T[];
  }

  /** Append a record to the log; false if it was already there (same content hash). */
  insertRecord(r: WireRecord): boolean {
    return (
      this.s.insertRecord.run({
        record_id: r.record_id,
        kind: r.kind,
        run_id: r.run_id,
        payload: JSON.stringify(r.payload),
        created_at: r.created_at,
        expires_at: r.expires_at,
        origin: r.origin,
      }).changes > 0
    );
  }

  deleteRecord(recordId: string): void {
    this.s.deleteRecord.run(recordId);
    this.s.deletePushMark.run(recordId);
  }

  hasRecord(recordId: string): boolean {
    return this.s.hasRecord.get(recordId) !== undefined;
  }

  /**
   * Records of the given kinds in wire form, oldest first, optionally one page after a
   * cursor. Rows are iterated, not materialised twice, so peak memory is the result.
   */
  gather(kinds: readonly RecordKind[], opts: { origin?: string; after?: GatherCursor; limit?: number } = {}): WireRecord[] {
    const stmt = this.gatherStatement(kinds.length, !!opts.origin, !!opts.after, opts.limit !== undefined);
    const args: unknown[] = [...kinds];
    if (opts.origin) args.push(opts.origin);
    if (opts.after) args.push(opts.after.created_at, opts.after.created_at, opts.after.record_id);
    if (opts.limit !== undefined) args.push(opts.limit);
    const out: WireRecord[] = [];
    for (const row of stmt.iterate(...args) as Iterable<RecordRow>) {
      out.push({
        kind: row.kind,
        record_id: row.record_id,
        run_id: row.run_id,
        payload: JSON.parse(row.payload),
        created_at: row.created_at,
        expires_at: row.expires_at,
        origin: row.origin,
      });
    }
    return out;
  }

  private gatherStatement(kinds: number, origin: boolean, after: boolean, limit: boolean): Statement {
    const key = `${kinds}:${origin}:${after}:${limit}`;
    let stmt = this.gathers.get(key);
    if (!stmt) {
      const where = [`kind IN (${Array(kinds).fill('?').join(',')})`];
      if (origin) where.push('origin = ?');
      if (after) where.push('(created_at > ? OR (created_at = ? AND record_id > ?))');
      stmt = this.db.prepare(
        `SELECT record_id, kind, run_id, payload, created_at, expires_at, origin FROM coord_records
         WHERE ${where.join(' AND ')} ORDER BY created_at, record_id${limit ? ' LIMIT ?' : ''}`,
      );
      this.gathers.set(key, stmt);
    }
    return stmt;
  }
}
