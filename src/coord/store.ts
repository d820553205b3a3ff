import type { Statement } from 'better-sqlite3';
import type { Db } from '../lib/sqlite.js';
import type { RecordKind, WireRecord } from './wire.js';

/** A reservation row joined with its run's heartbeat: `effective_expires_at` includes the extension. */
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
  record_id: string;
  claimer_run_id: string;
  claimed_at: number;
  expires_at: number;
  effective_expires_at: number;
}

/** The run's latest heartbeat over every origin, for rows written after it. */
const HB = (run: string): string => `COALESCE((SELECT MAX(extended_expires_at) FROM coord_heartbeats h WHERE h.run_id = ${run}), 0)`;
const EFFECTIVE = `MAX(r.expires_at, r.hb_until)`;
const RES_COLS = `r.*, ${EFFECTIVE} AS effective_expires_at`;
const LIVE = `r.released_at IS NULL AND ${EFFECTIVE} > @now`;
const CLAIM_EFFECTIVE = `CASE WHEN c.ended = 1 THEN c.expires_at ELSE MAX(c.expires_at, c.hb_until) END`;

/** Every SQL statement of the coordination layer. */
export class CoordStore {
  private readonly s: Record<string, Statement>;

  constructor(readonly db: Db) {
    const p = (sql: string): Statement => db.prepare(sql);
    this.s = {
      insertRecord: p(`INSERT OR IGNORE INTO coord_records (record_id, kind, run_id, payload, created_at, expires_at, origin)
        VALUES (@record_id, @kind, @run_id, @payload, @created_at, @expires_at, @origin)`),
      deleteRecord: p('DELETE FROM coord_records WHERE record_id = ?'),
      deletePushMark: p('DELETE FROM coord_pushed WHERE record_id = ?'),
      hasRecord: p('SELECT 1 FROM coord_records WHERE record_id = ?'),

      insertReservation: p(`INSERT INTO coord_reservations (reservation_id, record_id, run_id, mode, symbols, created_at, expires_at, hb_until, released_at, origin)
        VALUES (@reservation_id, @record_id, @run_id, @mode, @symbols, @created_at, @expires_at, ${HB('@run_id')}, NULL, @origin)`),
      insertSymbol: p('INSERT INTO coord_symbols (reservation_id, path, name, glob, prefix) VALUES (?, ?, ?, ?, ?)'),
      getReservation: p(`SELECT ${RES_COLS} FROM coord_reservations r WHERE r.reservation_id = ?`),
      holdersOfPath: p(`SELECT ${RES_COLS}, s.path, s.name, s.glob, s.prefix FROM coord_symbols s
        JOIN coord_reservations r ON r.reservation_id = s.reservation_id WHERE s.path = @path AND ${LIVE}`),
      liveGlobHolders: p(`SELECT ${RES_COLS}, s.path, s.name, s.glob, s.prefix FROM coord_symbols s
        JOIN coord_reservations r ON r.reservation_id = s.reservation_id WHERE s.glob = 1 AND ${LIVE}`),
      holdersUnder: p(`SELECT ${RES_COLS}, s.path, s.name, s.glob, s.prefix FROM coord_symbols s
        JOIN coord_reservations r ON r.reservation_id = s.reservation_id
        WHERE s.path >= @prefix AND s.path < @upper AND ${LIVE}`),
      // Only the columns status shows, in insertion order (an ORDER BY would sort wide rows).
      liveReservations: p(`SELECT reservation_id, run_id, mode, symbols, eff AS effective_expires_at FROM (
          SELECT r.reservation_id, r.run_id, r.mode, r.symbols, ${EFFECTIVE} AS eff FROM coord_reservations r WHERE r.released_at IS NULL)
        WHERE eff > @now`),
      liveReservationsOfRun: p(`SELECT ${RES_COLS} FROM coord_reservations r WHERE r.run_id = @run_id AND ${LIVE} ORDER BY r.created_at`),
      markReleased: p('UPDATE coord_reservations SET released_at = ? WHERE reservation_id = ? AND released_at IS NULL'),
      insertRelease: p(`INSERT OR IGNORE INTO coord_releases (release_id, record_id, reservation_id, run_id, released_at)
        VALUES (@release_id, @record_id, @reservation_id, @run_id, @released_at)`),
      insertIntent: p(`INSERT INTO coord_intents (intent_id, record_id, run_id, reservation_id, operation, target, created_at)
        VALUES (@intent_id, @record_id, @run_id, @reservation_id, @operation, @target, @created_at)`),
      getHeartbeat: p('SELECT record_id, extended_expires_at FROM coord_heartbeats WHERE run_id = ? AND origin = ?'),
      upsertHeartbeat: p(`INSERT INTO coord_heartbeats (run_id, origin, record_id, extended_expires_at) VALUES (@run_id, @origin, @record_id, @extended_expires_at)
        ON CONFLICT (run_id, origin) DO UPDATE SET record_id = excluded.record_id, extended_expires_at = excluded.extended_expires_at`),
      getDependency: p('SELECT record_id FROM coord_dependencies WHERE reservation_id = ?'),
      upsertDependency: p(`INSERT INTO coord_dependencies (reservation_id, record_id, depends_on) VALUES (@reservation_id, @record_id, @depends_on)
        ON CONFLICT (reservation_id) DO UPDATE SET record_id = excluded.record_id, depends_on = excluded.depends_on`),

      insertTask: p(`INSERT INTO coord_tasks (task_id, record_id, run_id, description, priority, depends_on, created_at, completed_at, completed_by, origin)
        VALUES (@task_id, @record_id, @run_id, @description, @priority, @depends_on, @created_at, @completed_at, @completed_by, @origin)
        ON CONFLICT (task_id) DO UPDATE SET record_id = excluded.record_id, depends_on = excluded.depends_on,
          completed_at = COALESCE(coord_tasks.completed_at, excluded.completed_at),
          completed_by = COALESCE(coord_tasks.completed_by, excluded.completed_by)`),
      getTask: p('SELECT * FROM coord_tasks WHERE task_id = ?'),
      insertTaskDep: p('INSERT OR IGNORE INTO coord_task_deps (task_id, depends_on) VALUES (?, ?)'),
      readyTasks: p(`SELECT t.* FROM coord_tasks t
        WHERE t.completed_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM coord_claims c WHERE c.task_id = t.task_id AND ${CLAIM_EFFECTIVE} > @now)
          AND NOT EXISTS (SELECT 1 FROM coord_task_deps d JOIN coord_tasks u ON u.task_id = d.depends_on
                          WHERE d.task_id = t.task_id AND u.completed_at IS NULL)
        ORDER BY t.priority DESC, t.created_at, t.task_id LIMIT @limit`),
      listTasks: p('SELECT * FROM coord_tasks ORDER BY created_at, task_id LIMIT ?'),
      getClaim: p(`SELECT c.*, ${CLAIM_EFFECTIVE} AS effective_expires_at FROM coord_claims c WHERE c.task_id = ?`),
      upsertClaim: p(`INSERT INTO coord_claims (task_id, record_id, claimer_run_id, claimed_at, expires_at, hb_until, ended)
        VALUES (@task_id, @record_id, @claimer_run_id, @claimed_at, @expires_at, ${HB('@claimer_run_id')}, @ended)
        ON CONFLICT (task_id) DO UPDATE SET record_id = excluded.record_id, claimer_run_id = excluded.claimer_run_id,
          claimed_at = excluded.claimed_at, expires_at = excluded.expires_at, hb_until = excluded.hb_until, ended = excluded.ended`),
      extendReservations: p('UPDATE coord_reservations SET hb_until = @until WHERE run_id = @run_id AND hb_until < @until'),
      extendClaims: p('UPDATE coord_claims SET hb_until = @until WHERE claimer_run_id = @run_id AND hb_until < @until'),
      liveClaimsOfRun: p(`SELECT COUNT(*) AS n FROM coord_claims c WHERE c.claimer_run_id = @run_id AND ${CLAIM_EFFECTIVE} > @now`),

      // gc: everything dead for longer than the grace period.
      deadReservations: p(`SELECT r.reservation_id, r.record_id FROM coord_reservations r
        WHERE (r.released_at IS NOT NULL AND r.released_at < @cutoff) OR (r.released_at IS NULL AND ${EFFECTIVE} < @cutoff)`),
      intentsOf: p('SELECT record_id FROM coord_intents WHERE reservation_id = ?'),
      releasesOf: p('SELECT record_id FROM coord_releases WHERE reservation_id = ?'),
      deleteReservation: p('DELETE FROM coord_reservations WHERE reservation_id = ?'),
      deleteSymbols: p('DELETE FROM coord_symbols WHERE reservation_id = ?'),
      deleteIntents: p('DELETE FROM coord_intents WHERE reservation_id = ?'),
      deleteReleases: p('DELETE FROM coord_releases WHERE reservation_id = ?'),
      deleteDependency: p('DELETE FROM coord_dependencies WHERE reservation_id = ?'),
      deadClaims: p(`SELECT c.task_id, c.record_id FROM coord_claims c WHERE ${CLAIM_EFFECTIVE} < @cutoff`),
      deleteClaim: p('DELETE FROM coord_claims WHERE task_id = ?'),
      deadHeartbeats: p(`SELECT h.run_id, h.origin, h.record_id FROM coord_heartbeats h WHERE h.extended_expires_at < @cutoff
        AND NOT EXISTS (SELECT 1 FROM coord_reservations r WHERE r.run_id = h.run_id)
        AND NOT EXISTS (SELECT 1 FROM coord_claims c WHERE c.claimer_run_id = h.run_id)`),
      deleteHeartbeat: p('DELETE FROM coord_heartbeats WHERE run_id = ? AND origin = ?'),
    };
  }

  run(name: string, params: unknown): number {
    return this.s[name]!.run(params as never).changes;
  }
  get<T>(name: string, ...params: unknown[]): T | undefined {
    return this.s[name]!.get(...(params as never[])) as T | undefined;
  }
  all<T>(name: string, ...params: unknown[]): T[] {
    return this.s[name]!.all(...(params as never[])) as T[];
  }

  insertRecord(r: WireRecord): boolean {
    return (
      this.s.insertRecord!.run({
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
    this.s.deleteRecord!.run(recordId);
    this.s.deletePushMark!.run(recordId);
  }

  hasRecord(recordId: string): boolean {
    return this.s.hasRecord!.get(recordId) !== undefined;
  }

  /** Records of the given kinds in wire form, oldest first; `iterate` keeps peak memory to the result. */
  gather(kinds: readonly RecordKind[], origin?: string): WireRecord[] {
    const where = [`kind IN (${kinds.map(() => '?').join(',')})`];
    const args: unknown[] = [...kinds];
    if (origin) {
      where.push('origin = ?');
      args.push(origin);
    }
    const stmt = this.db.prepare(
      `SELECT record_id, kind, run_id, payload, created_at, expires_at, origin FROM coord_records WHERE ${where.join(' AND ')} ORDER BY created_at, record_id`,
    );
    const out: WireRecord[] = [];
    for (const row of stmt.iterate(...args) as Iterable<{
      record_id: string;
      kind: RecordKind;
      run_id: string;
      payload: string;
      created_at: number;
      expires_at: number | null;
      origin: string;
    }>) {
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
}
