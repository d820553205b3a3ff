/**
 * Shared bench helpers. Every scenario returns results; bench/run.ts prints measured,
 * budget and ratio for each. `max` budgets are ceilings (ratio = measured / budget, ≤ 1 is
 * good); `min` budgets are floors (ratio = budget / measured, ≤ 1 is good); `info` has none.
 */
export interface BenchResult {
  name: string;
  measured: number;
  unit: string;
  budget?: number;
  kind: 'max' | 'min' | 'info';
  note?: string;
}

export type BenchScenario = () => Promise<BenchResult[]>;

export function ratio(r: BenchResult): number | undefined {
  if (r.kind === 'info' || r.budget === undefined) return undefined;
  return r.kind === 'max' ? r.measured / r.budget : r.budget / r.measured;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** Milliseconds taken by fn, with high resolution. */
export async function timeMs(fn: () => unknown | Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Run fn `runs` times and return the median duration in ms (after `warmup` untimed runs). */
export async function medianMs(fn: () => unknown | Promise<unknown>, runs = 7, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeMs(fn));
  return median(times);
}
