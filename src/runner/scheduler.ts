import { QueueFullError } from '../lib/errors.js';

/** Seconds a refused client is told to wait: short, since slots free up as jobs end. */
const RETRY_AFTER_S = 2;

/**
 * A counting semaphore in front of one FIFO queue. Items start in arrival order as slots
 * free up. `maxQueueDepth` bounds the items in flight, running and waiting together (the
 * execution-service specification's MAX_QUEUE_DEPTH: capacity 1, depth 2 → the third item
 * is refused), so at most `maxQueueDepth - capacity` wait. Pure in-memory: the durable copy
 * of the queue is the job store.
 */
export class Scheduler {
  private readonly waiting = new Map<string, () => Promise<void>>();
  private running = 0;
  private paused = false;

  constructor(
    private capacity: number,
    private readonly maxQueueDepth: number,
    /**
     * May this waiting item start now? `passedOver` are earlier items this pass skipped.
     * Without a gate the queue is strict FIFO.
     */
    private readonly gate?: (id: string, passedOver: readonly string[]) => boolean,
  ) {}

  get active(): number {
    return this.running;
  }
  get queued(): number {
    return this.waiting.size;
  }
  get slots(): number {
    return this.capacity;
  }
  get depth(): number {
    return this.maxQueueDepth;
  }

  /** Would one more item be refused right now? Running and waiting items both count. */
  isFull(): boolean {
    return this.running + this.waiting.size >= this.maxQueueDepth;
  }

  /** Throw the 429 error when one more item would be refused. */
  assertRoom(): void {
    if (this.isFull()) {
      throw new QueueFullError(
        `queue is full: ${this.running} running + ${this.waiting.size} waiting reach max_queue_depth (${this.maxQueueDepth} jobs in flight)`,
        RETRY_AFTER_S,
      );
    }
  }

  /**
   * Queue `run` under `id`; returns how many items wait ahead of it (0 when it starts at
   * once). `force` skips the depth check: used to re-queue durable jobs after a restart.
   */
  enqueue(id: string, run: () => Promise<void>, force = false): number {
    if (!force) this.assertRoom();
    const ahead = this.waiting.size;
    this.waiting.set(id, run);
    this.pump();
    return this.waiting.has(id) ? ahead : 0;
  }

  /** Take a waiting item out of the queue; false if it is not waiting. */
  remove(id: string): boolean {
    return this.waiting.delete(id);
  }

  /** 1-based place of a waiting item, or 0 when it is not waiting. O(queue). */
  positionOf(id: string): number {
    let i = 0;
    for (const k of this.waiting.keys()) {
      i++;
      if (k === id) return i;
    }
    return 0;
  }

  /** Stop starting new items (shutdown); waiting ones stay where they are. */
  pause(): void {
    this.paused = true;
  }

  /** Look at the queue again (a gate's condition may have changed). */
  kick(): void {
    this.pump();
  }

  private pump(): void {
    if (!this.gate) {
      while (!this.paused && this.running < this.capacity && this.waiting.size > 0) {
        this.start(this.waiting.keys().next().value as string);
      }
      return;
    }
    // Gated: items the gate holds back keep their place while later ones start.
    const passedOver: string[] = [];
    // Deleting the current key while iterating a Map is safe; no copy of a long queue.
    for (const id of this.waiting.keys()) {
      if (this.paused || this.running >= this.capacity) return;
      if (this.gate(id, passedOver)) this.start(id);
      else passedOver.push(id);
    }
  }

  private start(id: string): void {
    const run = this.waiting.get(id)!;
    this.waiting.delete(id);
    this.running++;
    // The job reports its own failures; the slot is freed whatever happens.
    void run()
      .catch(() => undefined)
      .finally(() => {
        this.running--;
        this.pump();
      });
  }
}
