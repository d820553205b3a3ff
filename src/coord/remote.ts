import { z } from 'zod';
import { InvalidInputError } from '../lib/errors.js';
import type { ClaimRow, CoordStore, ReservationRow } from './store.js';
import type { Reservations } from './reservations.js';
import type { Tasks } from './tasks.js';
import { parseSymbols } from './symbols.js';
import type { RecordKind, WireRecord } from './wire.js';

const str = z.string().min(1);
const ms = z.number().int();

/** What each kind's payload must hold before a record from another colony may touch the indexes. */
const PAYLOADS: Record<RecordKind, z.ZodTypeAny> = {
  reservation: z.object({
    reservation_id: str,
    run_id: str,
    symbols: z.array(str).min(1),
    mode: z.enum(['exclusive', 'shared']),
    expires_at: ms,
  }),
  intent: z.object({ intent_id: str, run_id: str, reservation_id: str, operation: str, target: str }),
  release: z.object({ release_id: str, reservation_id: str, run_id: str, released_at: ms }),
  heartbeat: z.object({ run_id: str, extended_expires_at: ms }),
  dependency: z.object({ reservation_id: str, depends_on: z.array(str) }),
  task: z.object({
    task_id: str,
    run_id: str,
    description: z.string(),
    priority: ms,
    depends_on: z.array(str),
    completed_at: ms.nullable(),
    completed_by: z.string().nullable(),
    reserve: z.array(str).max(100).optional(),
  }),
  claim: z.object({ task_id: str, claimer_run_id: str, claimed_at: ms, expires_at: ms, abandoned: z.boolean().optional() }),
};

/** Why a record from another colony cannot be applied, or null when it can. */
function refusalOf(r: WireRecord): string | null {
  const shape = PAYLOADS[r.kind]?.safeParse(r.payload);
  if (!shape) return `unknown kind '${String(r.kind)}'`;
  if (!shape.success) return `payload does not fit kind ${r.kind}`;
  if (r.kind === 'reservation') {
    try {
      parseSymbols((r.payload as { symbols: unknown }).symbols);
    } catch (err) {
      // A glob this colony would refuse (too complex, malformed) never reaches its matcher.
      return (err as Error).message;
    }
  }
  return null;
}

/**
 * Why a record from another colony may not change what it names, or null. Only the colony
 * that created a reservation may release it, declare intents on it or give it dependencies;
 * only the colony running a run may heartbeat it or reserve and claim under its id; only
 * the colony holding a claim may renew or abandon it. ('local' rows are this colony's.)
 */
function ownershipRefusal(store: CoordStore, r: WireRecord): string | null {
  const p = r.payload as Record<string, string>;
  const runTaken = (run: string): string | null => {
    const origins = store.all<{ origin: string }>('runOrigins', { run_id: run }).map((o) => o.origin);
    return origins.length && !origins.includes(r.origin) ? `run ${run} belongs to another colony` : null;
  };
  switch (r.kind) {
    case 'release':
    case 'intent':
    case 'dependency': {
      const res = store.get<ReservationRow>('getReservation', p.reservation_id);
      if (!res) return null; // gone or not here yet: it only applies to a reservation of its origin and run
      if (res.origin !== r.origin) return `reservation ${res.reservation_id} belongs to another colony`;
      if (r.kind !== 'dependency' && p.run_id !== res.run_id) return `reservation ${res.reservation_id} belongs to run ${res.run_id}`;
      return null;
    }
    case 'heartbeat':
    case 'reservation':
    case 'task':
      return r.kind === 'task' ? null : runTaken(p.run_id!);
    case 'claim': {
      const prev = store.get<ClaimRow>('getClaim', p.task_id);
      if (prev && prev.claimer_run_id === p.claimer_run_id && prev.origin !== r.origin) return `the claim on ${p.task_id} belongs to another colony`;
      return runTaken(p.claimer_run_id!);
    }
  }
}

/** A remote record that was not applied, and why: reported by pull. */
export interface Refusal {
  record_id: string;
  kind: string;
  origin: string;
  reason: string;
}

/** Refusals listed per call at most; the count in `skipped` covers the rest. */
const MAX_REFUSALS_LISTED = 100;

/**
 * Store records that came from other colonies. They keep their origin (so they are never
 * pushed back as ours) and go through the same `apply` paths as local writes, so they
 * count in conflict checks and readiness exactly like local records. Known records and
 * records whose payload does not fit their kind are skipped, never half-applied (the
 * latter are also listed in `refused`); the whole batch is one transaction.
 */
export function writeRemoteRecords(
  store: CoordStore,
  domains: { reservations: Reservations; tasks: Tasks },
  records: readonly WireRecord[],
): { inserted: number; skipped: number; refused: Refusal[] } {
  for (const r of records) {
    if (!r || typeof r !== 'object' || typeof r.origin !== 'string' || !r.origin || r.origin === 'local') {
      throw new InvalidInputError('records: a remote record needs the origin it came from (not "local")');
    }
  }
  let inserted = 0;
  let skipped = 0;
  const refused: Refusal[] = [];
  store.tx(() => {
    for (const r of records) {
      if (store.hasRecord(r.record_id)) {
        skipped++;
        continue;
      }
      const reason = refusalOf(r) ?? ownershipRefusal(store, r);
      if (reason !== null) {
        skipped++;
        if (refused.length < MAX_REFUSALS_LISTED) refused.push({ record_id: r.record_id, kind: r.kind, origin: r.origin, reason });
        continue;
      }
      apply(domains, r);
      inserted++;
    }
  });
  return { inserted, skipped, refused };
}

function apply({ reservations, tasks }: { reservations: Reservations; tasks: Tasks }, r: WireRecord): void {
  switch (r.kind) {
    case 'reservation':
      return reservations.applyReservation(r);
    case 'release':
      return reservations.applyRelease(r);
    case 'intent':
      return reservations.applyIntent(r);
    case 'heartbeat':
      return reservations.applyHeartbeat(r);
    case 'dependency':
      return reservations.applyDependency(r);
    case 'task':
      return tasks.applyTask(r);
    case 'claim':
      tasks.applyClaim(r);
      return;
  }
}
