// CPU accounting from Linux /proc, for benches and timing tests that must tell apart "the
// code is slow" from "the machine was busy": a process's CPU time at nanosecond resolution
// (per-thread schedstat, so 3 calls of a few ms are measurable, unlike 10 ms clock ticks),
// and how much of the machine everything else used meanwhile.
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** CPU milliseconds a process's live threads have run (sum of /proc/<pid>/task/<tid>/schedstat). */
export function processCpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread exited between the listing and the read: its time is no longer counted anywhere
    }
  }
  return ns / 1e6;
}

/** Busy CPU milliseconds of the whole machine so far, all cores (/proc/stat, 10 ms ticks). */
export function machineBusyMs(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
  return busy * 10;
}

export const MACHINE_CORES = cpus().length;

export interface CpuMeasure<T> {
  result: T;
  wallMs: number;
  /** CPU the process used during fn. */
  cpuMs: number;
  /** Cores the rest of the machine (this test process included) kept busy, on average. */
  otherCores: number;
  /** Cores that were left for the process: the machine's cores minus what others used. */
  freeCores: number;
}

/** Run fn, measuring the wall time, `pid`'s CPU and what everything else used meanwhile. */
export async function measureCpu<T>(pid: number, fn: () => Promise<T>): Promise<CpuMeasure<T>> {
  const busy0 = machineBusyMs();
  const cpu0 = processCpuMs(pid);
  const t0 = performance.now();
  const result = await fn();
  const wallMs = performance.now() - t0;
  const cpuMs = processCpuMs(pid) - cpu0;
  const busyMs = machineBusyMs() - busy0;
  const otherCores = Math.max(0, busyMs - cpuMs) / wallMs;
  return { result, wallMs, cpuMs, otherCores, freeCores: Math.max(0, MACHINE_CORES - otherCores) };
}
