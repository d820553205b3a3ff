import type { Statement } from 'better-sqlite3';
import type { Db } from '../../lib/sqlite.js';
import type { RecordKind } from '../wire.js';
import type { RecordRow } from '../store.js';

/** A local record as stored, with its place in the log: its payload is still JSON text, ready to splice into a body. */
export type PendingRow = Omit<RecordRow, 'origin'> & { seq: number };

/** One hub and repository id: push state is kept per pair. */
export interface Target {
  hub: string;
  repoId: string;
}

const SQL = {
  watermark: 'SELECT seq FROM coord_push_watermark WHERE hub = ? AND repo_id = ?',
  raiseWatermark: `INSERT INTO coord_push_watermark (hub, repo_id, seq) VALUES (?, ?, ?)
    ON CONFLICT (hub, repo_id) DO UPDATE SET seq = MAX(seq, excluded.seq)`,
  // One statement per batch, however many records it holds.
  mark: `INSERT OR IGNORE INTO coord_pushed (record_id, hub, repo_id) SELECT value, ?, ? FROM json_each(?)`,
  cursor: 'SELECT cursor FROM coord_sync_state WHERE hub = ? AND repo_id = ?',
  saveCursor: `INSERT INTO coord_sync_state (hub, repo_id, cursor, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (hub, repo_id) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
} as const;

/**
 * The push and pull bookkeeping of one database: what each hub has confirmed and where
 * each pull left off. Statements are prepared once per database, not once per push.
 */
export class SyncState {
  private static readonly byDb = new WeakMap<Db, SyncState>();
  private readonly s: Record<keyof typeof SQL, Statement>;
  private readonly pendingByKinds = new Map<number, Statement>();

  static of(db: Db): SyncState {
    let state = SyncState.byDb.get(db);
    if (!state) SyncState.byDb.set(db, (state = new SyncState(db)));
    return state;
  }

  private constructor(private readonly db: Db) {
    this.s = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)])) as Record<keyof typeof SQL, Statement>;
  }

  /** Every local record numbered up to this one is confirmed by the target. */
  watermark(t: Target): number {
    return (this.s.watermark.get(t.hub, t.repoId) as { seq: number } | undefined)?.seq ?? 0;
  }

  /** Local records past the watermark the target has not confirmed, in the order written. */
  pending(t: Target, after: number, kinds?: readonly RecordKind[]): PendingRow[] {
    return this.pendingStatement(kinds?.length ?? 0).all(after, ...(kinds ?? []), t.hub, t.repoId) as PendingRow[];
  }

  /** The target confirmed these records. */
  mark(t: Target, recordIds: readonly string[]): void {
    this.s.mark.run(t.hub, t.repoId, JSON.stringify(recordIds));
  }

  /**
   * Every local record numbered up to `seq` is confirmed: later pushes start past it. Marks
   * left under it are never read again (and go with their records).
   */
  raiseWatermark(t: Target, seq: number): void {
    this.s.raiseWatermark.run(t.hub, t.repoId, seq);
  }

  cursor(t: Target): string | undefined {
    return (this.s.cursor.get(t.hub, t.repoId) as { cursor: string } | undefined)?.cursor;
  }

  saveCursor(t: Target, cursor: string, at: number): void {
    this.s.saveCursor.run(t.hub, t.repoId, cursor, at);
  }

  private pendingStatement(kinds: number): Statement {
    let stmt = this.pendingByKinds.get(kinds);
    if (!stmt) {
      stmt = this.db.prepare(
        `SELECT s.seq, r.record_id, r.kind, r.run_id, r.payload, r.created_at, r.expires_at
         FROM coord_local_seq s JOIN coord_records r ON r.record_id = s.record_id
         WHERE s.seq > ? ${kinds ? `AND r.kind IN (${Array(kinds).fill('?').join(',')})` : ''}
           AND NOT EXISTS (SELECT 1 FROM coord_pushed p WHERE p.record_id = s.record_id AND p.hub = ? AND p.repo_id = ?)
         ORDER BY s.seq`,
      );
      this.pendingByKinds.set(kinds, stmt);
    }
    return stmt;
  }
}
