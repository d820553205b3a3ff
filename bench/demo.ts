// `colony demo` as a user runs it (the built CLI, a child process): its wall time against the
// 60 s the demo promises, with a daemon's bare start and stop on the same machine beside it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { COLONY_BIN } from '../src/lib/package-root.js';
import { createDemoRepo, startDemoDaemon } from '../src/demo/index.js';
import { timeMs, type BenchResult } from './lib.js';

const execFileP = promisify(execFile);
const BUDGET_MS = 60_000;

export default async function demo(): Promise<BenchResult[]> {
  // Baseline: what any demo pays before its first job, a daemon started and stopped in a fresh demo repository.
  const scratch = mkdtempSync(join(tmpdir(), 'colony-bench-demo-'));
  const daemonMs = await timeMs(async () => {
    const d = await startDemoDaemon(createDemoRepo(join(scratch, 'repo')));
    await d.stop();
  });
  rmSync(scratch, { recursive: true, force: true });

  let summary: { landed: number; total: number; conflicts_resolved: number; conflicts: number; wall_ms: number } | undefined;
  const wall = await timeMs(async () => {
    const { stdout } = await execFileP(process.execPath, [COLONY_BIN, 'demo', '--json'], { maxBuffer: 16 << 20 });
    summary = JSON.parse(stdout);
  });
  const s = summary!;
  return [
    { name: 'daemon start + stop in the demo repository (baseline)', measured: daemonMs, unit: 'ms', kind: 'info' },
    {
      name: 'colony demo, wall time (CLI start to exit)',
      measured: wall,
      unit: 'ms',
      budget: BUDGET_MS,
      kind: 'max',
      note: `${s.landed}/${s.total} tasks landed, ${s.conflicts_resolved}/${s.conflicts} conflicts resolved; ${(wall / daemonMs).toFixed(1)}× the baseline`,
    },
    { name: 'tasks landed', measured: s.landed, unit: 'tasks', budget: s.total, kind: 'min' },
  ];
}
