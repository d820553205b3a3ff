import { setImmediate } from 'node:timers/promises';
import type { Clock } from '../lib/clock.js';
import { InvalidInputError } from '../lib/errors.js';
import type { CoordStore } from './store.js';

export interface GcResult {
  reservations_removed: number;
  releases_removed: number;
  intents_removed: number;
  heartbeats_removed: number;
  dependencies_removed: number;
  claims_removed: number;
}

export interface GcOptions {
  /** Count what would go, remove nothing. */
  dryRun?: boolean;
  /** Keep dead records this long past their death (default 0). */
  graceSeconds?: number;
  onProgress?: (done: number, total: number) => void;
  /** Collect at most this many dead reservations (and claims) in this call: one short transaction. */
  maxRecords?: number;
}

const PROGRESS_EVERY = 1000;

/**
 * Remove what has been dead for longer than the grace period: reservations released or
 * expired (heartbeats included) with their intents, dependencies and release tombstones;
 * expired claims; and heartbeats of runs that hold nothing any more. Live removal is one
 * transaction; a dry run counts the same things in one read snapshot.
 */
export function collectGarbage(store: CoordStore, clock: Clock, opts: GcOptions = {}): GcResult {
  const grace = opts.graceSeconds ?? 0;
  if (typeof grace !== 'number' || !Number.isFinite(grace) || grace < 0) {
    throw new InvalidInputError('grace: must be zero or more seconds', { fields: ['grace'] });
  }
  const dry = !!opts.dryRun;
  const counts: GcResult = {
    reservations_removed: 0,
    releases_removed: 0,
    intents_removed: 0,
    heartbeats_removed: 0,
    dependencies_removed: 0,
    claims_removed: 0,
  };
  const work = (): GcResult => {
    const cutoff = clock.now() - grace * 1000;
    const max = opts.maxRecords ?? Infinity;
    const allDead = store.all<{ reservation_id: string; record_id: string }>('deadReservations', { cutoff });
    const dead = allDead.length > max ? allDead.slice(0, max) : allDead;
    let done = 0;
    for (const r of dead) {
      const intents = store.all<{ record_id: string }>('intentsOf', r.reservation_id);
      const releases = store.all<{ record_id: string }>('releasesOf', r.reservation_id);
      const dep = store.get<{ record_id: string }>('getDependency', r.reservation_id);
      counts.reservations_removed++;
      counts.intents_removed += intents.length;
      counts.releases_removed += releases.length;
      if (dep) counts.dependencies_removed++;
      if (!dry) {
        for (const x of intents) store.deleteRecord(x.record_id);
        for (const x of releases) store.deleteRecord(x.record_id);
        if (dep) store.deleteRecord(dep.record_id);
        store.deleteRecord(r.record_id);
        store.run('deleteSymbols', [r.reservation_id]);
        store.run('deleteIntents', [r.reservation_id]);
        store.run('deleteReleases', [r.reservation_id]);
        store.run('deleteDependency', [r.reservation_id]);
        store.run('deleteReservation', [r.reservation_id]);
      }
      if (++done % PROGRESS_EVERY === 0) opts.onProgress?.(done, dead.length);
    }
    opts.onProgress?.(dead.length, dead.length);
    // A release or intent can outlive its reservation here (pulled after a local gc, or its
    // reservation never came): nothing refers to it, so it goes too. In a dry run the dead
    // reservations above are still there and their own releases are already counted.
    const upTo = <T>(rows: T[]): T[] => (rows.length > max ? rows.slice(0, max) : rows);
    for (const x of upTo(store.all<{ release_id: string; record_id: string }>('orphanReleases', { cutoff }))) {
      counts.releases_removed++;
      if (!dry) {
        store.deleteRecord(x.record_id);
        store.run('deleteRelease', [x.release_id]);
      }
    }
    for (const x of upTo(store.all<{ intent_id: string; record_id: string }>('orphanIntents', { cutoff }))) {
      counts.intents_removed++;
      if (!dry) {
        store.deleteRecord(x.record_id);
        store.run('deleteIntent', [x.intent_id]);
      }
    }
    for (const c of upTo(store.all<{ task_id: string; record_id: string }>('deadClaims', { cutoff }))) {
      counts.claims_removed++;
      if (!dry) {
        store.deleteRecord(c.record_id);
        store.run('deleteClaim', [c.task_id]);
      }
    }
    // A dry run still sees the dead rows above, so it asks which heartbeats would fall with them.
    const heartbeats = store.all<{ run_id: string; origin: string; record_id: string }>(dry ? 'deadHeartbeatsIfCollected' : 'deadHeartbeats', { cutoff });
    for (const h of heartbeats) {
      counts.heartbeats_removed++;
      if (!dry) {
        store.deleteRecord(h.record_id);
        store.run('deleteHeartbeat', [h.run_id, h.origin]);
      }
    }
    return counts;
  };
  return dry ? store.read(work) : store.tx(work);
}

/** Dead reservations (and claims) per transaction when the daemon collects on its own. */
export const GC_BATCH = 500;

const addInto = (total: GcResult, r: GcResult): void => {
  for (const k of Object.keys(total) as (keyof GcResult)[]) total[k] += r[k];
};

/**
 * Collect everything dead past the grace period in batches of `batch` reservations, each one
 * short transaction with the event loop free in between, so other callers are never held
 * for long however much has piled up.
 */
export async function collectGarbageInBatches(
  gc: (opts: GcOptions) => GcResult,
  opts: { graceSeconds: number; batch?: number; signal?: AbortSignal },
): Promise<GcResult> {
  const batch = opts.batch ?? GC_BATCH;
  const total: GcResult = { reservations_removed: 0, releases_removed: 0, intents_removed: 0, heartbeats_removed: 0, dependencies_removed: 0, claims_removed: 0 };
  while (!opts.signal?.aborted) {
    const r = gc({ graceSeconds: opts.graceSeconds, maxRecords: batch });
    addInto(total, r);
    if (r.reservations_removed < batch && r.claims_removed < batch) break;
    await setImmediate();
  }
  return total;
}

/**
 * The daemon's own garbage collection: every `everySeconds`, collect what has been dead for
 * `graceSeconds` (released reservations would otherwise slow every reserve and check).
 * Returns a stop function.
 */
export function startGcLoop(
  gc: (opts: GcOptions) => GcResult,
  opts: { everySeconds: number; graceSeconds: number; batch?: number; log: { info(o: object, msg: string): void; error(o: object, msg: string): void } },
): () => void {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    try {
      const r = await collectGarbageInBatches(gc, { graceSeconds: opts.graceSeconds, batch: opts.batch, signal: abort.signal });
      if (Object.values(r).some((n) => n > 0)) opts.log.info(r, 'coordination gc');
    } catch (err) {
      opts.log.error({ err: (err as Error).message }, 'coordination gc failed');
    }
    if (!abort.signal.aborted) schedule();
  };
  const schedule = (): void => {
    timer = setTimeout(() => void tick(), opts.everySeconds * 1000);
    timer.unref();
  };
  schedule();
  return () => {
    abort.abort();
    if (timer) clearTimeout(timer);
  };
}
