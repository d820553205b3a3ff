import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/runner/scheduler.js';
import { QueueFullError } from '../../src/lib/errors.js';

/** A job the test finishes by hand. */
function gate(): { run: () => Promise<void>; release: () => void; started: boolean } {
  let release!: () => void;
  const g = {
    started: false,
    release: () => release(),
    run: () => {
      g.started = true;
      return new Promise<void>((r) => (release = r));
    },
  };
  return g;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Scheduler', () => {
  it('runs up to capacity at once and starts the rest in FIFO order', async () => {
    const s = new Scheduler(2, 10);
    const jobs = Array.from({ length: 5 }, gate);
    const order: number[] = [];
    jobs.forEach((j, i) =>
      s.enqueue(`j${i}`, () => {
        order.push(i);
        return j.run();
      }),
    );
    expect(s.active).toBe(2);
    expect(s.queued).toBe(3);
    expect(jobs.map((j) => j.started)).toEqual([true, true, false, false, false]);
    jobs[1]!.release();
    await tick();
    expect(order).toEqual([0, 1, 2]);
    jobs[0]!.release();
    await tick();
    expect(order).toEqual([0, 1, 2, 3]);
    jobs[2]!.release();
    jobs[3]!.release();
    await tick();
    expect(order).toEqual([0, 1, 2, 3, 4]);
    jobs[4]!.release();
    await tick();
    expect(s.active).toBe(0);
  });

  it('reports how many wait ahead and refuses once running + waiting items reach the depth, with a 429 error', () => {
    const s = new Scheduler(1, 3);
    expect(s.enqueue('a', gate().run)).toBe(0);
    expect(s.enqueue('b', gate().run)).toBe(0);
    expect(s.enqueue('c', gate().run)).toBe(1);
    expect(s.positionOf('c')).toBe(2);
    expect(s.isFull()).toBe(true);
    expect(() => s.enqueue('d', gate().run)).toThrow(/1 running \+ 2 waiting reach max_queue_depth \(3 jobs in flight\)/);
    expect(() => s.enqueue('d', gate().run)).toThrow(QueueFullError);
    // Re-queueing durable jobs after a restart ignores the depth.
    expect(s.enqueue('d', gate().run, true)).toBe(2);
  });

  it('removes a waiting item and frees its place; a failing item frees its slot', async () => {
    const s = new Scheduler(1, 5);
    const first = gate();
    s.enqueue('a', first.run);
    let bRan = false;
    s.enqueue('b', async () => {
      bRan = true;
    });
    s.enqueue('c', async () => {
      throw new Error('boom');
    });
    expect(s.remove('b')).toBe(true);
    expect(s.remove('b')).toBe(false);
    first.release();
    await tick();
    await tick();
    expect(bRan).toBe(false);
    expect(s.active).toBe(0);
    expect(s.queued).toBe(0);
  });

  it('starts nothing new once paused', async () => {
    const s = new Scheduler(1, 5);
    const a = gate();
    const b = gate();
    s.enqueue('a', a.run);
    s.enqueue('b', b.run);
    s.pause();
    a.release();
    await tick();
    expect(b.started).toBe(false);
    expect(s.queued).toBe(1);
  });
});
