import type { Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import { ForbiddenError, InvalidInputError, NotFoundError } from '../lib/errors.js';
import type { CoordStore, ReservationRow } from './store.js';
import { parseSymbol, parseSymbols, symbolCovers, type Symbol } from './symbols.js';
import { findHolders } from './conflicts.js';
import { makeRecord } from './records.js';
import { idList, iso, requireId, requireRun, ttlMs } from './inputs.js';
import type { WireRecord } from './wire.js';

export type ReservationMode = 'exclusive' | 'shared';
export const INTENT_OPERATIONS = ['create', 'modify', 'delete', 'rename'] as const;

/** Who holds what: a live reservation as callers see it. */
export interface Holder {
  reservation_id: string;
  run_id: string;
  symbols: string[];
  expires_at: string;
}

export type ReserveResult =
  | { granted: true; reservation_id: string; expires_at: string }
  | { granted: false; conflicts: Holder[] };

export interface HeartbeatResult {
  extended_expires_at: string;
  reservations: number;
  claims: number;
}

const holderOf = (r: Pick<ReservationRow, 'reservation_id' | 'run_id' | 'symbols' | 'effective_expires_at'>): Holder => ({
  reservation_id: r.reservation_id,
  run_id: r.run_id,
  symbols: JSON.parse(r.symbols) as string[],
  expires_at: iso(r.effective_expires_at),
});

/**
 * Reservations and the records that hang off them: releases (tombstones), intents,
 * heartbeats (which extend a run's reservations and claims) and dependencies. Every write
 * is one transaction that appends the wire record and updates the indexes; the `apply*`
 * methods are shared with records pulled from other colonies.
 */
export class Reservations {
  constructor(
    private readonly store: CoordStore,
    private readonly clock: Clock,
  ) {}

  /** Check for conflicts and insert in one IMMEDIATE transaction: overlapping holders can never both win. */
  reserve(input: { run_id: string; symbols: string[]; ttl_seconds?: number; mode?: ReservationMode }): ReserveResult {
    const runId = requireRun(input.run_id);
    const symbols = parseSymbols(input.symbols);
    const mode = input.mode ?? 'exclusive';
    if (mode !== 'exclusive' && mode !== 'shared') throw new InvalidInputError("mode: must be 'exclusive' or 'shared'", { fields: ['mode'] });
    const ttl = ttlMs(input.ttl_seconds);
    return this.store.tx(() => {
      const now = this.clock.now();
      // A run never conflicts with itself; a shared reservation only with exclusive holders.
      const held = findHolders(this.store, symbols, { now, exceptRun: runId, exclusiveOnly: mode === 'shared' });
      if (held.length) return { granted: false as const, conflicts: held.map(holderOf) };
      const reservation_id = newId('res', now);
      const expires = now + ttl;
      const payload = { reservation_id, run_id: runId, symbols: symbols.map((s) => s.raw), mode, expires_at: expires };
      this.insertReservation(makeRecord('reservation', runId, payload, now, expires), symbols);
      return { granted: true as const, reservation_id, expires_at: iso(expires) };
    });
  }

  /** A reservation record from another colony (validated by the caller); a known id only logs the record. */
  applyReservation(record: WireRecord): void {
    const p = record.payload as { reservation_id: string; symbols: string[] };
    if (this.store.get('getReservation', p.reservation_id)) {
      this.store.insertRecord(record);
      return;
    }
    this.insertReservation(record, parseSymbols(p.symbols));
  }

  private insertReservation(record: WireRecord, symbols: Symbol[]): void {
    const p = record.payload as { reservation_id: string; run_id: string; symbols: string[]; mode: string; expires_at: number };
    this.store.insertRecord(record);
    this.store.run('insertReservation', {
      reservation_id: p.reservation_id,
      record_id: record.record_id,
      run_id: p.run_id,
      mode: p.mode,
      symbols: JSON.stringify(p.symbols),
      created_at: record.created_at,
      expires_at: p.expires_at,
      origin: record.origin,
    });
    for (const s of symbols) this.store.run('insertSymbol', [p.reservation_id, s.path, s.name, s.glob ? 1 : 0, s.prefix]);
  }

  private reservationOf(reservationId: unknown, field = 'reservation_id'): ReservationRow {
    const id = requireId(field, reservationId);
    const r = this.store.get<ReservationRow>('getReservation', id);
    if (!r) throw new NotFoundError(`no reservation ${id}`);
    return r;
  }

  private ownedBy(r: ReservationRow, runId: string): void {
    if (r.run_id !== runId) throw new ForbiddenError(`reservation ${r.reservation_id} belongs to run ${r.run_id}, not ${runId}`);
  }

  /** Release one of the run's reservations; `released: false` if it already was. */
  release(input: { run_id: string; reservation_id: string }): { released: boolean } {
    const runId = requireRun(input.run_id);
    return this.store.tx(() => {
      const r = this.reservationOf(input.reservation_id);
      this.ownedBy(r, runId);
      if (r.released_at !== null) return { released: false };
      const now = this.clock.now();
      const payload = { release_id: newId('rel', now), reservation_id: r.reservation_id, run_id: runId, released_at: now };
      this.applyRelease(makeRecord('release', runId, payload, now, null));
      return { released: true };
    });
  }

  applyRelease(record: WireRecord): void {
    const p = record.payload as { release_id: string; reservation_id: string; run_id: string; released_at: number };
    this.store.insertRecord(record);
    this.store.run('insertRelease', { ...p, record_id: record.record_id });
    this.store.run('markReleased', [p.released_at, p.reservation_id]);
  }

  /** Extend every live reservation and claim of the run to now + ttl. */
  heartbeat(input: { run_id: string; ttl_seconds?: number }): HeartbeatResult {
    const runId = requireRun(input.run_id);
    const ttl = ttlMs(input.ttl_seconds);
    return this.store.tx(() => {
      const now = this.clock.now();
      const until = now + ttl;
      this.applyHeartbeat(makeRecord('heartbeat', runId, { run_id: runId, extended_expires_at: until }, now, until));
      return {
        extended_expires_at: iso(until),
        reservations: this.store.all('liveReservationsOfRun', { run_id: runId, now }).length,
        claims: this.store.get<{ n: number }>('liveClaimsOfRun', { run_id: runId, now })!.n,
      };
    });
  }

  /**
   * Keep the latest heartbeat per run and origin (the superseded record leaves the log) and
   * copy its extension onto the run's rows that were still live when it was sent: a late
   * heartbeat must not revive a reservation someone else may hold by now.
   */
  applyHeartbeat(record: WireRecord): void {
    const until = (record.payload as { extended_expires_at: number }).extended_expires_at;
    const prev = this.store.get<{ record_id: string; extended_expires_at: number }>('getHeartbeat', record.run_id, record.origin);
    if (prev && prev.extended_expires_at >= until) return;
    if (prev) this.store.deleteRecord(prev.record_id);
    this.store.insertRecord(record);
    this.store.run('upsertHeartbeat', { run_id: record.run_id, origin: record.origin, record_id: record.record_id, extended_expires_at: until });
    const at = record.created_at;
    this.store.run('extendReservations', { run_id: record.run_id, until, at, origin: record.origin });
    this.store.run('extendClaims', { run_id: record.run_id, until, at, origin: record.origin });
  }

  /** Declare an operation on a target that lies inside one of the run's active reservations. */
  intent(input: { run_id: string; reservation_id: string; operation: string; target: string }): { intent_id: string } {
    const runId = requireRun(input.run_id);
    if (!(INTENT_OPERATIONS as readonly string[]).includes(input.operation)) {
      throw new InvalidInputError(`operation: must be one of ${INTENT_OPERATIONS.join(', ')}`, { fields: ['operation'] });
    }
    let target: Symbol;
    try {
      target = parseSymbol(input.target);
    } catch (err) {
      throw new InvalidInputError((err as Error).message.replace(/^symbols:/, 'target:'), { fields: ['target'] });
    }
    return this.store.tx(() => {
      const now = this.clock.now();
      const r = this.reservationOf(input.reservation_id);
      this.ownedBy(r, runId);
      if (r.released_at !== null || r.effective_expires_at <= now) {
        throw new InvalidInputError(`reservation ${r.reservation_id} is no longer active`, { fields: ['reservation_id'] });
      }
      const held = (JSON.parse(r.symbols) as string[]).map(parseSymbol);
      if (!held.some((h) => symbolCovers(h, target))) {
        throw new InvalidInputError(`target: '${target.raw}' is not inside reservation ${r.reservation_id}`, { fields: ['target'] });
      }
      const payload = { intent_id: newId('int', now), run_id: runId, reservation_id: r.reservation_id, operation: input.operation, target: target.raw };
      this.applyIntent(makeRecord('intent', runId, payload, now, null));
      return { intent_id: payload.intent_id };
    });
  }

  applyIntent(record: WireRecord): void {
    const p = record.payload as { intent_id: string; run_id: string; reservation_id: string; operation: string; target: string };
    this.store.insertRecord(record);
    this.store.run('insertIntent', { ...p, record_id: record.record_id, created_at: record.created_at });
  }

  /** Record that a reservation depends on others (replacing its previous list; empty clears it). */
  depend(input: { reservation_id: string; depends_on: string[] }): { reservation_id: string; depends_on: string[] } {
    const dependsOn = idList('depends_on', input.depends_on);
    return this.store.tx(() => {
      const r = this.reservationOf(input.reservation_id);
      for (const d of dependsOn) {
        if (d === r.reservation_id) throw new InvalidInputError('depends_on: a reservation cannot depend on itself', { fields: ['depends_on'] });
        this.reservationOf(d, 'depends_on');
      }
      const now = this.clock.now();
      this.applyDependency(makeRecord('dependency', r.run_id, { reservation_id: r.reservation_id, depends_on: dependsOn }, now, null));
      return { reservation_id: r.reservation_id, depends_on: dependsOn };
    });
  }

  applyDependency(record: WireRecord): void {
    const p = record.payload as { reservation_id: string; depends_on: string[] };
    const prev = this.store.get<{ record_id: string }>('getDependency', p.reservation_id);
    if (prev && prev.record_id !== record.record_id) this.store.deleteRecord(prev.record_id);
    this.store.insertRecord(record);
    this.store.run('upsertDependency', { reservation_id: p.reservation_id, record_id: record.record_id, depends_on: JSON.stringify(p.depends_on) });
  }

  /** Who holds any of these symbols right now (any run, any mode). */
  check(input: { symbols: string[] }): { holders: Holder[] } {
    const symbols = parseSymbols(input.symbols);
    return { holders: findHolders(this.store, symbols, { now: this.clock.now() }).map(holderOf) };
  }

  /** Active reservations, of one run or of everyone, with heartbeat extensions applied. */
  status(input: { run_id?: string } = {}): { reservations: (Holder & { mode: ReservationMode })[] } {
    const now = this.clock.now();
    const rows =
      input.run_id === undefined
        ? this.store.all<ReservationRow>('liveReservations', { now })
        : this.store.all<ReservationRow>('liveReservationsOfRun', { run_id: requireRun(input.run_id), now });
    return { reservations: rows.map((r) => ({ ...holderOf(r), mode: r.mode })) };
  }
}
