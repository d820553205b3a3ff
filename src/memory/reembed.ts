import { setImmediate } from 'node:timers/promises';
import type { MemoryService } from './service.js';

export interface ReembedLog {
  info(msg: string): void;
  warn(msg: string): void;
}

const BATCH = 64;
/** Wait after a failed batch before trying again (an embedding endpoint may be down). */
const RETRY_MS = 5_000;
/** Log progress at most this often. */
const REPORT_MS = 2_000;

/**
 * After the embedder changes, works through the memories still carrying the old
 * embedder's vectors, a batch at a time, in the background: recall keeps working
 * throughout (full-text for every memory, similarity for those already re-embedded).
 * Progress shows in memory_stats (`embedding.pending`) and in the log.
 */
export class Reembedder {
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly memory: MemoryService,
    private readonly log: ReembedLog,
    private readonly opts: { batch?: number; reportMs?: number; retryMs?: number } = {},
  ) {}

  /** Start working if there is anything to re-embed; returns at once. */
  start(): void {
    if (!this.running && !this.stopped) this.running = this.run().finally(() => (this.running = undefined));
  }

  /** Resolves when nothing is left to re-embed (or on close). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private async run(): Promise<void> {
    const id = this.memory.embedder.id;
    const pending = this.memory.stats().embedding.pending;
    if (pending === 0) return;
    this.log.info(`re-embedding ${pending} memories with ${id}`);
    const started = Date.now();
    let done = 0;
    let reported = Date.now();
    while (!this.stopped) {
      const rows = this.memory.rows.stale(id, this.opts.batch ?? BATCH);
      if (rows.length === 0) break;
      try {
        const vectors = await this.memory.embedder.embed(rows.map((r) => r.text));
        this.memory.rows.transaction(() => rows.forEach((r, i) => this.memory.rows.setVector(r.rowid, r.text, id, vectors[i]!)));
        this.memory.embeddingError = undefined;
        done += rows.length;
      } catch (err) {
        this.memory.embeddingError = (err as Error).message;
        const retryMs = this.opts.retryMs ?? RETRY_MS;
        this.log.warn(`re-embedding with ${id} failed, retrying in ${retryMs / 1000} s: ${(err as Error).message}`);
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, retryMs).unref();
        });
        continue;
      }
      if (Date.now() - reported >= (this.opts.reportMs ?? REPORT_MS)) {
        reported = Date.now();
        const left = this.memory.stats().embedding.pending;
        this.log.info(`re-embedding with ${id}: ${done} done, ${left} to go (${Math.floor((100 * done) / (done + left))}%)`);
      }
      // Let other work in between batches.
      await setImmediate();
    }
    if (!this.stopped) this.log.info(`re-embedded ${done} memories with ${id} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
