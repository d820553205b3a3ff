import { z } from 'zod';
import type { Db } from '../lib/sqlite.js';
import type { Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import { ForbiddenError, InvalidInputError, NotFoundError } from '../lib/errors.js';
import { CoordStore, type ClaimRow, type HolderRow, type ReservationRow, type TaskRow } from './store.js';
import { parseSymbol, parseSymbols, symbolCovers, symbolsOverlap, type Symbol } from './symbols.js';
import { makeRecord } from './records.js';
import { RECORD_KINDS, type RecordKind, type WireRecord } from './wire.js';

export const DEFAULT_TTL_S = 600;

const str = z.string().min(1);
const ms = z.number().int();
/** What each kind's payload must hold before a remote record may touch the indexes. */
const REMOTE_PAYLOADS: Record<RecordKind, z.ZodTypeAny> = {
  reservation: z.object({ reservation_id: str, run_id: str, symbols: z.array(str).min(1), mode: z.enum(['exclusive', 'shared']), expires_at: ms }),
  intent: z.object({ intent_id: str, run_id: str, reservation_id: str, operation: str, target: str }),
  release: z.object({ release_id: str, reservation_id: str, run_id: str, released_at: ms }),
  heartbeat: z.object({ run_id: str, extended_expires_at: ms }),
  dependency: z.object({ reservation_id: str, depends_on: z.array(str) }),
  task: z.object({ task_id: str, run_id: str, description: z.string(), priority: ms, depends_on: z.array(str), completed_at: ms.nullable(), completed_by: z.string().nullable() }),
  claim: z.object({ task_id: str, claimer_run_id: str, claimed_at: ms, expires_at: ms, abandoned: z.boolean().optional() }),
};

/** A record from another machine whose payload does not fit its kind is skipped, never half-applied. */
function remotePayloadValid(r: WireRecord): boolean {
  const schema = REMOTE_PAYLOADS[r.kind];
  if (!schema?.safeParse(r.payload).success) return false;
  if (r.kind === 'reservation') {
    try {
      parseSymbols((r.payload as { symbols: unknown }).symbols);
    } catch {
      return false;
    }
  }
  return true;
}
export const MAX_TTL_S = 24 * 3600;
const iso = (ms: number): string => new Date(ms).toISOString();

export interface Holder {
  reservation_id: string;
  run_id: string;
  symbols: string[];
  expires_at: string;
}

export type ReserveResult =
  | { granted: true; reservation_id: string; expires_at: string }
  | { granted: false; conflicts: Holder[] };

export interface GcResult {
  reservations_removed: number;
  releases_removed: number;
  intents_removed: number;
  heartbeats_removed: number;
  dependencies_removed: number;
  claims_removed: number;
}

export interface ReadyTask {
  task_id: string;
  description: string;
  priority: number;
  depends_on: string[];
}

function ttl(seconds: number | undefined, field = 'ttl_seconds'): number {
  const s = seconds ?? DEFAULT_TTL_S;
  if (!Number.isFinite(s) || s <= 0 || s > MAX_TTL_S) {
    throw new InvalidInputError(`${field}: must be between 1 and ${MAX_TTL_S} seconds`, { fields: [field] });
  }
  return Math.round(s * 1000);
}

function requireRun(runId: unknown): string {
  if (typeof runId !== 'string' || !runId.trim() || runId.length > 200) {
    throw new InvalidInputError('run_id: required, 1–200 characters', { fields: ['run_id'] });
  }
  return runId;
}

function holderOf(r: ReservationRow): Holder {
  return { reservation_id: r.reservation_id, run_id: r.run_id, symbols: JSON.parse(r.symbols), expires_at: iso(r.effective_expires_at) };
}

/**
 * Coordination for a swarm: reservations with conflict checks, intents, heartbeats,
 * dependencies, tasks and claims. Every write is one SQLite transaction (IMMEDIATE, so
 * separate processes on the same file serialise), and every record also lands in the
 * wire log that sync reads. Remote records take part exactly like local ones.
 */
export class CoordService {
  readonly store: CoordStore;
  private readonly clock: Clock;

  constructor(opts: { db: Db; clock: Clock }) {
    this.store = new CoordStore(opts.db);
    this.clock = opts.clock;
  }

  private tx<T>(fn: () => T): T {
    return this.store.db.transaction(fn).immediate();
  }

  /** Live reservations of other runs overlapping any of `symbols`, deduplicated. */
  private conflicts(symbols: Symbol[], now: number, exceptRun: string | null, exclusiveOnly: boolean): Holder[] {
    const found = new Map<string, ReservationRow>();
    let globs: HolderRow[] | undefined;
    const consider = (row: HolderRow, sym: Symbol): void => {
      if (exceptRun !== null && row.run_id === exceptRun) return;
      if (exclusiveOnly && row.mode !== 'exclusive') return;
      if (found.has(row.reservation_id)) return;
      const held: Symbol = { raw: row.path, path: row.path, name: row.name, glob: row.glob === 1, prefix: row.prefix };
      if (symbolsOverlap(sym, held)) found.set(row.reservation_id, row);
    };
    for (const sym of symbols) {
      if (sym.glob) {
        const upper = sym.prefix + '\u{10FFFF}';
        for (const row of this.store.all<HolderRow>('holdersUnder', { prefix: sym.prefix, upper, now })) consider(row, sym);
      } else {
        for (const row of this.store.all<HolderRow>('holdersOfPath', { path: sym.path, now })) consider(row, sym);
      }
      globs ??= this.store.all<HolderRow>('liveGlobHolders', { now });
      for (const row of globs) consider(row, sym);
    }
    return [...found.values()].map(holderOf);
  }

  reserve(input: { run_id: string; symbols: string[]; ttl_seconds?: number; mode?: 'exclusive' | 'shared' }): ReserveResult {
    const runId = requireRun(input.run_id);
    const symbols = parseSymbols(input.symbols);
    const mode = input.mode ?? 'exclusive';
    if (mode !== 'exclusive' && mode !== 'shared') throw new InvalidInputError("mode: must be 'exclusive' or 'shared'", { fields: ['mode'] });
    const ttlMs = ttl(input.ttl_seconds);
    return this.tx(() => {
      const now = this.clock.now();
      // A shared reservation only conflicts with exclusive holders.
      const conflicts = this.conflicts(symbols, now, runId, mode === 'shared');
      if (conflicts.length) return { granted: false as const, conflicts };
      const reservation_id = newId('res', now);
      const expires = now + ttlMs;
      const raw = symbols.map((s) => s.raw);
      const record = makeRecord('reservation', runId, { reservation_id, run_id: runId, symbols: raw, mode, expires_at: expires }, now, expires);
      this.insertReservation(record, symbols);
      return { granted: true as const, reservation_id, expires_at: iso(expires) };
    });
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

  private reservationOf(reservationId: string): ReservationRow {
    if (typeof reservationId !== 'string' || !reservationId) throw new InvalidInputError('reservation_id: required', { fields: ['reservation_id'] });
    const r = this.store.get<ReservationRow>('getReservation', reservationId);
    if (!r) throw new NotFoundError(`no reservation ${reservationId}`);
    return r;
  }

  release(input: { run_id: string; reservation_id: string }): { released: boolean } {
    const runId = requireRun(input.run_id);
    return this.tx(() => {
      const r = this.reservationOf(input.reservation_id);
      if (r.run_id !== runId) throw new ForbiddenError(`reservation ${r.reservation_id} belongs to run ${r.run_id}, not ${runId}`);
      if (r.released_at !== null) return { released: false };
      const now = this.clock.now();
      const release_id = newId('rel', now);
      const record = makeRecord('release', runId, { release_id, reservation_id: r.reservation_id, run_id: runId, released_at: now }, now, null);
      this.applyRelease(record);
      return { released: true };
    });
  }

  private applyRelease(record: WireRecord): void {
    const p = record.payload as { release_id: string; reservation_id: string; run_id: string; released_at: number };
    this.store.insertRecord(record);
    this.store.run('insertRelease', { ...p, record_id: record.record_id });
    this.store.run('markReleased', [p.released_at, p.reservation_id]);
  }

  heartbeat(input: { run_id: string; ttl_seconds?: number }): { extended_expires_at: string; reservations: number; claims: number } {
    const runId = requireRun(input.run_id);
    const ttlMs = ttl(input.ttl_seconds);
    return this.tx(() => {
      const now = this.clock.now();
      const until = now + ttlMs;
      this.applyHeartbeat(makeRecord('heartbeat', runId, { run_id: runId, extended_expires_at: until }, now, until));
      const reservations = this.store.all<ReservationRow>('liveReservationsOfRun', { run_id: runId, now }).length;
      const claims = this.store.get<{ n: number }>('liveClaimsOfRun', { run_id: runId, now })!.n;
      return { extended_expires_at: iso(until), reservations, claims };
    });
  }

  /** Keep the latest heartbeat per run and origin; the superseded record leaves the log. */
  private applyHeartbeat(record: WireRecord): boolean {
    const until = (record.payload as { extended_expires_at: number }).extended_expires_at;
    const prev = this.store.get<{ record_id: string; extended_expires_at: number }>('getHeartbeat', record.run_id, record.origin);
    if (prev && prev.extended_expires_at >= until) return false;
    if (prev) this.store.deleteRecord(prev.record_id);
    this.store.insertRecord(record);
    this.store.run('upsertHeartbeat', { run_id: record.run_id, origin: record.origin, record_id: record.record_id, extended_expires_at: until });
    this.store.run('extendReservations', { run_id: record.run_id, until });
    this.store.run('extendClaims', { run_id: record.run_id, until });
    return true;
  }

  intent(input: { run_id: string; reservation_id: string; operation: string; target: string }): { intent_id: string } {
    const runId = requireRun(input.run_id);
    const ops = ['create', 'modify', 'delete', 'rename'];
    if (!ops.includes(input.operation)) throw new InvalidInputError(`operation: must be one of ${ops.join(', ')}`, { fields: ['operation'] });
    const target = parseSymbol(input.target);
    return this.tx(() => {
      const now = this.clock.now();
      const r = this.reservationOf(input.reservation_id);
      if (r.run_id !== runId) throw new ForbiddenError(`reservation ${r.reservation_id} belongs to run ${r.run_id}, not ${runId}`);
      if (r.released_at !== null || r.effective_expires_at <= now) throw new InvalidInputError(`reservation ${r.reservation_id} is no longer active`);
      const held = (JSON.parse(r.symbols) as string[]).map(parseSymbol);
      if (!held.some((h) => symbolCovers(h, target))) {
        throw new InvalidInputError(`target: '${target.raw}' is not inside reservation ${r.reservation_id}`, { fields: ['target'] });
      }
      const intent_id = newId('int', now);
      const record = makeRecord(
        'intent',
        runId,
        { intent_id, run_id: runId, reservation_id: r.reservation_id, operation: input.operation, target: target.raw },
        now,
        null,
      );
      this.applyIntent(record);
      return { intent_id };
    });
  }

  private applyIntent(record: WireRecord): void {
    const p = record.payload as { intent_id: string; run_id: string; reservation_id: string; operation: string; target: string };
    this.store.insertRecord(record);
    this.store.run('insertIntent', { ...p, record_id: record.record_id, created_at: record.created_at });
  }

  depend(input: { reservation_id: string; depends_on: string[] }): { reservation_id: string; depends_on: string[] } {
    if (!Array.isArray(input.depends_on)) throw new InvalidInputError('depends_on: must be an array', { fields: ['depends_on'] });
    return this.tx(() => {
      const r = this.reservationOf(input.reservation_id);
      for (const d of input.depends_on) {
        if (d === r.reservation_id) throw new InvalidInputError('depends_on: a reservation cannot depend on itself');
        this.reservationOf(d);
      }
      const depends_on = [...new Set(input.depends_on)].sort();
      const now = this.clock.now();
      this.applyDependency(makeRecord('dependency', r.run_id, { reservation_id: r.reservation_id, depends_on }, now, null));
      return { reservation_id: r.reservation_id, depends_on };
    });
  }

  private applyDependency(record: WireRecord): void {
    const p = record.payload as { reservation_id: string; depends_on: string[] };
    const prev = this.store.get<{ record_id: string }>('getDependency', p.reservation_id);
    if (prev && prev.record_id !== record.record_id) this.store.deleteRecord(prev.record_id);
    this.store.insertRecord(record);
    this.store.run('upsertDependency', { reservation_id: p.reservation_id, record_id: record.record_id, depends_on: JSON.stringify(p.depends_on) });
  }

  check(input: { symbols: string[] }): { holders: Holder[] } {
    const symbols = parseSymbols(input.symbols);
    return { holders: this.conflicts(symbols, this.clock.now(), null, false) };
  }

  status(input: { run_id?: string } = {}): { reservations: (Holder & { mode: string })[] } {
    const now = this.clock.now();
    const rows = input.run_id
      ? this.store.all<ReservationRow>('liveReservationsOfRun', { run_id: input.run_id, now })
      : this.store.all<ReservationRow>('liveReservations', { now });
    return {
      reservations: rows.map((r) => ({
        reservation_id: r.reservation_id,
        run_id: r.run_id,
        symbols: JSON.parse(r.symbols) as string[],
        expires_at: iso(r.effective_expires_at),
        mode: r.mode,
      })),
    };
  }

  // ---- tasks and claims -------------------------------------------------------------

  taskCreate(input: { run_id: string; description: string; priority?: number; depends_on?: string[] }): { task_id: string } {
    const runId = requireRun(input.run_id);
    if (typeof input.description !== 'string' || !input.description.trim()) {
      throw new InvalidInputError('description: required', { fields: ['description'] });
    }
    const priority = input.priority ?? 0;
    if (!Number.isInteger(priority) || Math.abs(priority) > 1_000_000) throw new InvalidInputError('priority: an integer within ±1,000,000', { fields: ['priority'] });
    return this.tx(() => {
      const deps = [...new Set(input.depends_on ?? [])].sort();
      for (const d of deps) this.taskOf(d);
      const now = this.clock.now();
      const task_id = newId('task', now);
      this.applyTask(
        makeRecord('task', runId, { task_id, run_id: runId, description: input.description, priority, depends_on: deps, completed_at: null, completed_by: null }, now, null),
      );
      return { task_id };
    });
  }

  private applyTask(record: WireRecord): void {
    const p = record.payload as {
      task_id: string;
      run_id: string;
      description: string;
      priority: number;
      depends_on: string[];
      completed_at: number | null;
      completed_by: string | null;
    };
    const prev = this.store.get<TaskRow>('getTask', p.task_id);
    if (prev && prev.record_id !== record.record_id) this.store.deleteRecord(prev.record_id);
    this.store.insertRecord(record);
    this.store.run('insertTask', {
      ...p,
      record_id: record.record_id,
      depends_on: JSON.stringify(p.depends_on),
      created_at: prev?.created_at ?? record.created_at,
      origin: record.origin,
    });
    for (const d of p.depends_on) this.store.run('insertTaskDep', [p.task_id, d]);
  }

  private taskOf(taskId: string): TaskRow {
    if (typeof taskId !== 'string' || !taskId) throw new InvalidInputError('task_id: required', { fields: ['task_id'] });
    const t = this.store.get<TaskRow>('getTask', taskId);
    if (!t) throw new NotFoundError(`no task ${taskId}`);
    return t;
  }

  private rewriteTask(t: TaskRow, patch: Partial<{ depends_on: string[]; completed_at: number; completed_by: string }>): void {
    const payload = {
      task_id: t.task_id,
      run_id: t.run_id,
      description: t.description,
      priority: t.priority,
      depends_on: patch.depends_on ?? (JSON.parse(t.depends_on) as string[]),
      completed_at: patch.completed_at ?? t.completed_at,
      completed_by: patch.completed_by ?? t.completed_by,
    };
    this.applyTask(makeRecord('task', t.run_id, payload, t.created_at, null));
  }

  taskDepend(input: { task_id: string; depends_on: string[] }): { task_id: string; depends_on: string[] } {
    if (!Array.isArray(input.depends_on)) throw new InvalidInputError('depends_on: must be an array', { fields: ['depends_on'] });
    return this.tx(() => {
      const t = this.taskOf(input.task_id);
      const deps = new Set<string>(JSON.parse(t.depends_on));
      for (const d of input.depends_on) {
        if (d === t.task_id) throw new InvalidInputError('depends_on: a task cannot depend on itself');
        this.taskOf(d);
        if (this.dependsOn(d, t.task_id)) throw new InvalidInputError(`depends_on: ${d} already depends on ${t.task_id} (a cycle)`);
        deps.add(d);
      }
      const depends_on = [...deps].sort();
      this.rewriteTask(t, { depends_on });
      return { task_id: t.task_id, depends_on };
    });
  }

  /** Does `from` (transitively) depend on `to`? */
  private dependsOn(from: string, to: string): boolean {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length) {
      const id = stack.pop()!;
      if (id === to) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      const t = this.store.get<TaskRow>('getTask', id);
      if (t) stack.push(...(JSON.parse(t.depends_on) as string[]));
    }
    return false;
  }

  taskClaim(input: { run_id: string; task_id: string; ttl_seconds?: number }):
    | { claimed: true; expires_at: string }
    | { claimed: false; holder: { run_id: string; expires_at: string } | null; reason?: string } {
    const runId = requireRun(input.run_id);
    const ttlMs = ttl(input.ttl_seconds);
    return this.tx(() => {
      const t = this.taskOf(input.task_id);
      const now = this.clock.now();
      if (t.completed_at !== null) return { claimed: false as const, holder: null, reason: 'completed' };
      const c = this.store.get<ClaimRow>('getClaim', t.task_id);
      if (c && c.effective_expires_at > now && c.claimer_run_id !== runId) {
        return { claimed: false as const, holder: { run_id: c.claimer_run_id, expires_at: iso(c.effective_expires_at) } };
      }
      const unmet = (JSON.parse(t.depends_on) as string[]).filter((d) => this.store.get<TaskRow>('getTask', d)?.completed_at == null);
      if (unmet.length) return { claimed: false as const, holder: null, reason: `waiting on ${unmet.join(', ')}` };
      const expires = now + ttlMs;
      this.applyClaim(makeRecord('claim', runId, { task_id: t.task_id, claimer_run_id: runId, claimed_at: now, expires_at: expires }, now, expires));
      return { claimed: true as const, expires_at: iso(expires) };
    });
  }

  private applyClaim(record: WireRecord): boolean {
    const p = record.payload as { task_id: string; claimer_run_id: string; claimed_at: number; expires_at: number; abandoned?: boolean };
    const prev = this.store.get<ClaimRow>('getClaim', p.task_id);
    // Across machines two live claims can meet: the earlier one keeps the task.
    if (prev && prev.claimer_run_id !== p.claimer_run_id && prev.effective_expires_at > p.claimed_at && prev.claimed_at <= p.claimed_at) {
      return false;
    }
    if (prev && prev.record_id !== record.record_id) this.store.deleteRecord(prev.record_id);
    this.store.insertRecord(record);
    this.store.run('upsertClaim', {
      task_id: p.task_id,
      claimer_run_id: p.claimer_run_id,
      claimed_at: p.claimed_at,
      expires_at: p.expires_at,
      record_id: record.record_id,
      ended: p.abandoned ? 1 : 0,
    });
    return true;
  }

  taskComplete(input: { run_id: string; task_id: string }): { completed: boolean } {
    const runId = requireRun(input.run_id);
    return this.tx(() => {
      const t = this.taskOf(input.task_id);
      if (t.completed_at !== null) return { completed: false };
      const now = this.clock.now();
      const c = this.store.get<ClaimRow>('getClaim', t.task_id);
      if (c && c.effective_expires_at > now && c.claimer_run_id !== runId) {
        throw new ForbiddenError(`task ${t.task_id} is claimed by run ${c.claimer_run_id}`);
      }
      this.rewriteTask(t, { completed_at: now, completed_by: runId });
      return { completed: true };
    });
  }

  taskAbandon(input: { run_id: string; task_id: string }): { abandoned: boolean } {
    const runId = requireRun(input.run_id);
    return this.tx(() => {
      const t = this.taskOf(input.task_id);
      const now = this.clock.now();
      const c = this.store.get<ClaimRow>('getClaim', t.task_id);
      if (!c || c.effective_expires_at <= now) return { abandoned: false };
      if (c.claimer_run_id !== runId) throw new ForbiddenError(`task ${t.task_id} is claimed by run ${c.claimer_run_id}, not ${runId}`);
      // An abandoned claim record ends the claim everywhere the record travels.
      this.applyClaim(
        makeRecord('claim', runId, { task_id: t.task_id, claimer_run_id: runId, claimed_at: now, expires_at: now, abandoned: true }, now, now),
      );
      return { abandoned: true };
    });
  }

  taskReady(input: { limit?: number } = {}): { tasks: ReadyTask[] } {
    const limit = input.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidInputError('limit: 1–1000', { fields: ['limit'] });
    const rows = this.store.all<TaskRow>('readyTasks', { now: this.clock.now(), limit });
    return { tasks: rows.map((t) => ({ task_id: t.task_id, description: t.description, priority: t.priority, depends_on: JSON.parse(t.depends_on) })) };
  }

  taskList(input: { limit?: number } = {}): {
    tasks: (ReadyTask & { run_id: string; created_at: string; completed_at: string | null; completed_by: string | null; claimed_by: string | null })[];
  } {
    const now = this.clock.now();
    const rows = this.store.all<TaskRow>('listTasks', input.limit ?? 1000);
    return {
      tasks: rows.map((t) => {
        const c = this.store.get<ClaimRow>('getClaim', t.task_id);
        return {
          task_id: t.task_id,
          description: t.description,
          priority: t.priority,
          depends_on: JSON.parse(t.depends_on),
          run_id: t.run_id,
          created_at: iso(t.created_at),
          completed_at: t.completed_at === null ? null : iso(t.completed_at),
          completed_by: t.completed_by,
          claimed_by: c && c.effective_expires_at > now ? c.claimer_run_id : null,
        };
      }),
    };
  }

  // ---- maintenance and sync -----------------------------------------------------------

  /**
   * Remove what is dead for longer than the grace period: reservations released or
   * expired, with their intents, dependencies and release tombstones; expired claims; and
   * heartbeats of runs that hold nothing any more. Dry run counts without deleting.
   */
  gc(opts: { dryRun?: boolean; graceSeconds?: number; onProgress?: (done: number, total: number) => void } = {}): GcResult {
    const grace = opts.graceSeconds ?? 0;
    if (!Number.isFinite(grace) || grace < 0) throw new InvalidInputError('grace: must be zero or more seconds', { fields: ['grace'] });
    const counts: GcResult = {
      reservations_removed: 0,
      releases_removed: 0,
      intents_removed: 0,
      heartbeats_removed: 0,
      dependencies_removed: 0,
      claims_removed: 0,
    };
    const work = (): GcResult => {
      const cutoff = this.clock.now() - grace * 1000;
      const dead = this.store.all<{ reservation_id: string; record_id: string }>('deadReservations', { cutoff });
      let done = 0;
      for (const r of dead) {
        const intents = this.store.all<{ record_id: string }>('intentsOf', r.reservation_id);
        const releases = this.store.all<{ record_id: string }>('releasesOf', r.reservation_id);
        const dep = this.store.get<{ record_id: string }>('getDependency', r.reservation_id);
        counts.reservations_removed++;
        counts.intents_removed += intents.length;
        counts.releases_removed += releases.length;
        if (dep) counts.dependencies_removed++;
        if (!opts.dryRun) {
          for (const x of [...intents, ...releases, ...(dep ? [dep] : []), r]) this.store.deleteRecord(x.record_id);
          this.store.run('deleteSymbols', [r.reservation_id]);
          this.store.run('deleteIntents', [r.reservation_id]);
          this.store.run('deleteReleases', [r.reservation_id]);
          this.store.run('deleteDependency', [r.reservation_id]);
          this.store.run('deleteReservation', [r.reservation_id]);
        }
        if (++done % 1000 === 0) opts.onProgress?.(done, dead.length);
      }
      opts.onProgress?.(dead.length, dead.length);
      for (const c of this.store.all<{ task_id: string; record_id: string }>('deadClaims', { cutoff })) {
        counts.claims_removed++;
        if (!opts.dryRun) {
          this.store.deleteRecord(c.record_id);
          this.store.run('deleteClaim', [c.task_id]);
        }
      }
      // In a dry run the reservations above still exist, so count heartbeats as they would fall.
      const hbs = opts.dryRun ? this.deadHeartbeatsAfter(cutoff) : this.store.all<{ run_id: string; origin: string; record_id: string }>('deadHeartbeats', { cutoff });
      for (const h of hbs) {
        counts.heartbeats_removed++;
        if (!opts.dryRun) {
          this.store.deleteRecord(h.record_id);
          this.store.run('deleteHeartbeat', [h.run_id, h.origin]);
        }
      }
      return counts;
    };
    return opts.dryRun ? work() : this.tx(work);
  }

  /** Heartbeats gc would remove once dead reservations and claims are gone (for dry runs). */
  private deadHeartbeatsAfter(cutoff: number): { run_id: string; origin: string; record_id: string }[] {
    return this.store.db
      .prepare(
        `SELECT h.run_id, h.origin, h.record_id FROM coord_heartbeats h WHERE h.extended_expires_at < @cutoff
         AND NOT EXISTS (SELECT 1 FROM coord_reservations r WHERE r.run_id = h.run_id
           AND NOT ((r.released_at IS NOT NULL AND r.released_at < @cutoff) OR (r.released_at IS NULL AND MAX(r.expires_at, h.extended_expires_at) < @cutoff)))
         AND NOT EXISTS (SELECT 1 FROM coord_claims c WHERE c.claimer_run_id = h.run_id AND MAX(c.expires_at, h.extended_expires_at) >= @cutoff)`,
      )
      .all({ cutoff }) as { run_id: string; origin: string; record_id: string }[];
  }

  /** Every record of these kinds in wire form (local and remote). */
  gatherRecords(kinds: readonly RecordKind[] = RECORD_KINDS, opts: { origin?: string } = {}): WireRecord[] {
    for (const k of kinds) if (!RECORD_KINDS.includes(k)) throw new InvalidInputError(`kinds: unknown kind '${k}'`);
    return this.store.gather(kinds, opts.origin);
  }

  /**
   * Store records that came from other machines, tagged with their origin; they count in
   * conflict checks and readiness exactly like local ones. Returns how many were new.
   */
  writeRemoteRecords(records: readonly WireRecord[]): { inserted: number; skipped: number } {
    let inserted = 0;
    let skipped = 0;
    this.tx(() => {
      for (const r of records) {
        if (!r.origin || r.origin === 'local') throw new InvalidInputError('records: a remote record needs its origin');
        if (this.store.hasRecord(r.record_id) || !remotePayloadValid(r)) {
          skipped++;
          continue;
        }
        this.applyRemote(r);
        inserted++;
      }
    });
    return { inserted, skipped };
  }

  private applyRemote(r: WireRecord): void {
    const p = r.payload as Record<string, any>;
    switch (r.kind) {
      case 'reservation': {
        if (this.store.get('getReservation', p.reservation_id)) return void this.store.insertRecord(r);
        this.insertReservation(r, parseSymbols(p.symbols));
        return;
      }
      case 'release':
        return this.applyRelease(r);
      case 'intent':
        return this.applyIntent(r);
      case 'heartbeat':
        this.applyHeartbeat(r);
        return;
      case 'dependency':
        return this.applyDependency(r);
      case 'task':
        return this.applyTask(r);
      case 'claim':
        this.applyClaim(r);
        return;
    }
  }
}
