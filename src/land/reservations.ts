import type { Logger } from '../lib/log.js';
import { ColonyError } from '../lib/errors.js';
import type { CoordService } from '../coord/service.js';
import { parseSymbols, symbolsOverlap } from '../coord/symbols.js';
import type { OrchestrateConfig } from './config.js';
import type { LandStore } from './store.js';

/**
 * Reservations a job asked for, taken under its own run id (the job id) before it starts
 * and held, heartbeated, until its work lands or is dropped. The scheduler asks `gate`
 * for each waiting job in order; a job whose symbols are held elsewhere is passed over
 * (later jobs start ahead of it) until `max_overtakes`, after which newcomers that
 * overlap its symbols wait behind it. Claims of a job's task ride on the same heartbeat.
 */
export class JobReservations {
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: LandStore,
    private readonly coord: CoordService,
    private readonly config: OrchestrateConfig,
    private readonly logger: Logger,
  ) {}

  /** Throws InvalidInputError for symbols coordination would refuse, so a bad job never waits forever. */
  validate(symbols: string[]): void {
    parseSymbols(symbols);
  }

  /**
   * May job `id` start now? `passedOver` are the earlier waiting jobs the scheduler skipped
   * in this pass. Takes the job's reservations when it may.
   */
  gate(id: string, passedOver: readonly string[]): boolean {
    const meta = this.store.job(id);
    if (!meta?.reserve?.length || (meta.held && meta.reservation_id)) {
      this.overtook(passedOver);
      return true;
    }
    const mine = parseSymbols(meta.reserve);
    for (const w of passedOver) {
      const other = this.store.job(w);
      if (!other?.reserve?.length || other.overtakes < this.config.max_overtakes) continue;
      const theirs = parseSymbols(other.reserve);
      if (mine.some((a) => theirs.some((b) => symbolsOverlap(a, b)))) {
        this.store.setWaiting(id, { symbols: meta.reserve, holders: [], behind: w });
        return false;
      }
    }
    const r = this.coord.reserve({ run_id: id, symbols: meta.reserve, ttl_seconds: this.config.reserve_ttl });
    if (!r.granted) {
      this.store.setWaiting(id, { symbols: meta.reserve, holders: r.conflicts });
      return false;
    }
    this.store.hold(id, r.reservation_id);
    this.overtook(passedOver);
    return true;
  }

  /**
   * Take the job's reservations again, under its own run id, for a retried merge-queue entry:
   * its first attempt gave them back when it settled. Refused (409, naming the holders) while
   * another run holds overlapping symbols rather than waiting: an entry's work is already
   * done, so the holder is editing what it would land, and the person retrying decides when
   * to try again. True when it took them (the caller gives them back if queueing then fails).
   */
  retake(jobId: string): boolean {
    const meta = this.store.job(jobId);
    if (!meta?.reserve?.length || (meta.held && meta.reservation_id)) return false;
    const r = this.coord.reserve({ run_id: jobId, symbols: meta.reserve, ttl_seconds: this.config.reserve_ttl });
    if (!r.granted) {
      const who = r.conflicts.map((h) => `run ${h.run_id} (${h.symbols.join(', ')}, until ${h.expires_at})`).join('; ');
      throw new ColonyError(
        'reserved',
        `job ${jobId} reserves ${meta.reserve.join(', ')}, and overlapping symbols are held by ${who}; retry once they are released, so its work does not land over theirs`,
        409,
        { holders: r.conflicts },
      );
    }
    this.store.hold(jobId, r.reservation_id);
    return true;
  }

  private overtook(passedOver: readonly string[]): void {
    for (const w of passedOver) this.store.overtaken(w);
  }

  /** Start heartbeating every held job's run (reservations and task claims) well within the ttl. */
  start(): void {
    const every = Math.max(1000, (this.config.reserve_ttl * 1000) / 3);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), every);
    this.heartbeatTimer.unref();
  }

  stop(): void {
    clearInterval(this.heartbeatTimer);
  }

  heartbeat(): void {
    for (const j of this.store.heldJobs()) {
      try {
        this.coord.heartbeat({ run_id: j.job_id, ttl_seconds: this.config.reserve_ttl });
      } catch (err) {
        this.logger.warn({ job_id: j.job_id, err: (err as Error).message }, 'heartbeat failed');
      }
    }
  }

  /** Mark the job's task claim as held (heartbeated) even when it reserved nothing. */
  holdClaim(jobId: string): void {
    this.store.hold(jobId, null);
  }

  /** Release the job's reservations; true when something was released. */
  release(jobId: string): boolean {
    const meta = this.store.job(jobId);
    if (!meta) return false;
    let released = false;
    if (meta.reservation_id && meta.held) {
      released = this.coord.release({ run_id: jobId, reservation_id: meta.reservation_id }).released;
    }
    this.store.letGo(jobId);
    return released;
  }
}
