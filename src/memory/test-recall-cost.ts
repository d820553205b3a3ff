// Test-only: COLONY_TEST_RECALL_COST=<ms> adds a fixed amount of CPU work to every recall,
// where the recall runs (a worker thread, or the event loop under COLONY_TEST_RECALL_INLINE).
// The memory daemon conformance test uses it to size the recall cost so that its scenario
// separates the two placements with margin, whatever the store costs on this machine. Unset
// (always, in use) it costs nothing.
import { z } from 'zod';
import { ColonyError } from '../lib/errors.js';
import { describeZodError } from '../lib/validate.js';

const costSchema = z.coerce.number().min(0).max(1000);

function configuredCostMs(): number {
  const raw = process.env.COLONY_TEST_RECALL_COST;
  if (raw === undefined || raw === '') return 0;
  const r = costSchema.safeParse(raw);
  if (!r.success) throw new ColonyError('bad_test_recall_cost', `COLONY_TEST_RECALL_COST must be milliseconds from 0 to 1000: ${describeZodError(r.error)}`);
  return r.data;
}

/** Where the work's result goes, so the compiler cannot drop the loop. */
let sink = 0;

function spin(iterations: number): void {
  let x = sink | 1;
  for (let i = 0; i < iterations; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
  sink = x;
}

/**
 * Iterations per millisecond on this thread: the fastest of many short trials, so a trial
 * the scheduler interrupted (a loaded machine) does not count. The work is then a fixed
 * number of iterations — a fixed CPU cost, not a wall-clock wait that load would stretch.
 */
function calibrate(): number {
  const chunk = 200_000;
  spin(chunk); // compiled before it is timed
  let best = Infinity;
  for (let trial = 0; trial < 25; trial++) {
    const t = process.hrtime.bigint();
    spin(chunk);
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return chunk / Math.max(best, 1e-3);
}

/** Iterations per recall on this thread, worked out on the first recall. */
let iterations: number | undefined;

/** Spend the configured CPU time on this thread (nothing when the switch is unset). */
export function burnTestRecallCost(): void {
  if (iterations === undefined) {
    const ms = configuredCostMs();
    iterations = ms === 0 ? 0 : Math.round(calibrate() * ms);
  }
  if (iterations > 0) spin(iterations);
}
