// Conformance: the memory daemon's socket-concurrency acceptance test (seeds/000_*), its two
// scenarios as written: one connection per call, memory_recall {cue, budget_tokens: 100},
// a warm-up, a baseline measured in the same run, and the specification's own bounds.
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import type { ColonyProcess } from '../../bench/colony-process.js';
import { MACHINE_CORES, measureCpu, type CpuMeasure } from '../../bench/proc-cpu.js';
import { spawnDaemon, TEST_TOKEN } from '../helpers/daemon.js';
import { makeTempRepo } from '../helpers/repo.js';

/** `_send_jsonrpc`: open a connection, send one request, read one answer, close. */
function sendJsonRpc(sock: string, method: string, params: unknown, id: number): Promise<any> {
  return new Promise((resolve, reject) => {
    const s = createConnection(sock);
    let buf = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n'));
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const msg = JSON.parse(buf.slice(0, nl));
      s.end();
      if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
      else resolve(msg.result);
    });
    s.on('error', reject);
  });
}

/** `_client_workload`: n sequential recalls, each on its own connection. */
async function clientWorkload(sock: string, clientIdx: number, nCalls = 5): Promise<void> {
  for (let callIdx = 0; callIdx < nCalls; callIdx++) {
    const r = await sendJsonRpc(sock, 'memory_recall', { cue: `client-${clientIdx}-call-${callIdx}`, budget_tokens: 100 }, callIdx + 1);
    // Every call does the full work: the cue matches the whole store.
    expect(r.memories.length).toBeGreaterThan(0);
  }
}

/** Runs one phase of a scenario, measuring the daemon's CPU and the machine meanwhile. */
type Measure = <R>(phase: 'baseline' | 'concurrent', fn: () => Promise<R>) => Promise<R>;

/** test_10_concurrent_clients_no_hol_blocking's runner: warm-up, baseline, 10 clients at once. */
async function tenClients(sock: string, measure: Measure): Promise<{ baseline: number; total: number }> {
  await clientWorkload(sock, -1, 2);
  let t0 = performance.now();
  await measure('baseline', () => clientWorkload(sock, 0));
  const baseline = (performance.now() - t0) / 1000;
  t0 = performance.now();
  await measure('concurrent', () => Promise.all(Array.from({ length: 10 }, (_, i) => clientWorkload(sock, i))));
  return { baseline, total: (performance.now() - t0) / 1000 };
}

const singleCall = (sock: string, idx: number): Promise<any> =>
  sendJsonRpc(sock, 'memory_recall', { cue: `parallel-test-${idx}`, budget_tokens: 100 }, idx);

/** test_3_clients_serialize_per_connection_but_parallel_across's runner. */
async function threeConnections(sock: string, measure: Measure): Promise<{ baseline: number; total: number }> {
  await singleCall(sock, 0);
  let t0 = performance.now();
  await measure('baseline', () => singleCall(sock, 1));
  const baseline = (performance.now() - t0) / 1000;
  t0 = performance.now();
  await measure('concurrent', () => Promise.all([singleCall(sock, 2), singleCall(sock, 3), singleCall(sock, 4)]));
  return { baseline, total: (performance.now() - t0) / 1000 };
}

/**
 * 10,000 memories that every cue of the scenarios matches ("client", "call", "parallel",
 * "test" and the digits), so each recall does the full work of ranking the whole store. What
 * that costs depends on the machine; the "can fail" runs measure it and add the rest of the
 * cost that separates the placements (COLONY_TEST_RECALL_COST).
 */
function storeContents(): { text: string }[] {
  return Array.from({ length: 10_000 }, (_, i) => ({
    text: `note ${i}: the client call ${i % 10} in parallel test ${i % 5} to service ${i % 97} returned code ${i % 13} after retry ${i % 7}`,
  }));
}

let repo: { dir: string; cleanup: () => void };
let sock: string;
beforeAll(async () => {
  repo = makeTempRepo();
  sock = join(repo.dir, '.colony', 'colony.sock');
  const d = await spawnDaemon(repo.dir);
  try {
    const mems = storeContents();
    for (let i = 0; i < mems.length; i += 2000) {
      const r = await fetch(`${d.url}/memory/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ memories: mems.slice(i, i + 2000) }),
      });
      expect(r.status).toBe(200);
    }
  } finally {
    await d.stop();
  }
}, 120_000);
afterAll(() => repo.cleanup());

/**
 * Run a scenario against a fresh daemon (`env` picks the placement and the test-only recall
 * cost), measuring its baseline and concurrent phases: the daemon's CPU and the cores the
 * rest of the machine left it.
 */
async function withDaemon<T extends { total: number }>(
  env: Record<string, string>,
  scenario: (sock: string, measure: Measure) => Promise<T>,
): Promise<T & Phases> {
  let d: ColonyProcess | undefined;
  try {
    d = await spawnDaemon(repo.dir, [], env);
    const pid = d.child.pid!;
    const phases: Partial<Phases> = {};
    const r = await scenario(sock, async (phase, fn) => {
      const m = await measureCpu(pid, fn);
      phases[phase === 'baseline' ? 'base' : 'cpu'] = m;
      return m.result;
    });
    return { ...r, base: phases.base!, cpu: phases.cpu! };
  } finally {
    await d?.stop();
  }
}

/** What the machine gave each phase of a run. */
interface Phases {
  base: CpuMeasure<unknown>;
  cpu: CpuMeasure<unknown>;
}

/**
 * The daemon's CPU per recall, on the workers without added cost: the cheapest of several
 * batches of sequential calls, since contention from other work inflates CPU time too (caches,
 * shared cores) and the sized cost must hold when the machine is quieter.
 */
async function perCallCpuMs(): Promise<number> {
  const d = await spawnDaemon(repo.dir);
  try {
    await clientWorkload(sock, -1, 3);
    let best = Infinity;
    for (let batch = 0; batch < 4; batch++) {
      const m = await measureCpu(d.child.pid!, () => clientWorkload(sock, -2 - batch, 5));
      best = Math.min(best, m.cpuMs / 5);
    }
    return best;
  } finally {
    await d.stop();
  }
}

/**
 * Whether a bound the workers missed says anything about Colony. The concurrent phase needed
 * `cpu.cpuMs` of CPU inside `boundS`, so the daemon had to get at least cpuMs ÷ bound cores
 * on average; /proc/stat says how many the rest of the machine left it. With fewer than that
 * (plus 10 % for scheduling) no placement could have met the bound: the machine decided, and
 * the test says so and skips instead of passing or failing.
 */
function machineTooBusy(cpu: CpuMeasure<unknown>, boundS: number): { busy: boolean; why: string } {
  const needed = cpu.cpuMs / 1000 / boundS;
  return {
    busy: cpu.freeCores < 1.1 * needed,
    why: `the daemon needed ${needed.toFixed(2)} cores to finish inside the bound; the rest of the machine used ${cpu.otherCores.toFixed(2)} of ${MACHINE_CORES}, leaving ${cpu.freeCores.toFixed(2)}`,
  };
}

/**
 * Print one run's figures, and skip (visibly) a run the machine decided. Workers over their
 * bound: see machineTooBusy. Inline inside its bound: recall on the event loop uses at most
 * one core, so its baseline and concurrent phases compare fairly only if the machine left it
 * about as much of one in both; when the baseline got under 0.8× the concurrent phase's share,
 * load changes between the phases, not the placement, set the ratio.
 */
function report(ctx: TestContext, label: string, total: number, bound: number, { base, cpu }: Phases, placement: 'workers' | 'inline'): void {
  console.info(
    `memory-daemon ${label}: ${total.toFixed(3)} s, bound ${bound.toFixed(3)} s (${(total / bound).toFixed(2)}× the bound); daemon CPU ${cpu.cpuMs.toFixed(0)} ms; cores free: baseline ${base.freeCores.toFixed(2)}, concurrent ${cpu.freeCores.toFixed(2)}`,
  );
  if (placement === 'workers' && total > bound) {
    const m = machineTooBusy(cpu, bound);
    if (m.busy) {
      console.warn(`memory-daemon ${label}: NOT JUDGED (skipped): over the bound, but ${m.why}`);
      ctx.skip();
    }
  }
  if (placement === 'inline' && total <= bound) {
    const shareBase = Math.min(1, base.freeCores);
    const shareConcurrent = Math.min(1, cpu.freeCores);
    if (shareBase < 0.8 * shareConcurrent) {
      console.warn(`memory-daemon ${label}: NOT JUDGED (skipped): inside the bound, but the baseline had ${shareBase.toFixed(2)} of a core and the concurrent phase ${shareConcurrent.toFixed(2)}`);
      ctx.skip();
    }
  }
}

/**
 * The CPU per call at which each scenario separates the placements on 2 cores. 10×5: the
 * bound is 2 × 5 calls + 0.5 s; inline, 50 calls run one after another (50c), on the workers
 * about 50c ÷ 2 cores. At c = 18.5 ms inline is 0.93 s against a 0.69 s bound (1.35×), the
 * workers 0.46 s (0.67×, and within it down to 1.35 free cores). 3 connections: the bound is
 * 1.5 calls + 0.3 s, so only a slow call separates them: at 500 ms inline is 1.5 s against
 * 1.05 s (1.43×), the workers 0.75 s on 2 cores.
 */
const TEN_CLIENTS_CALL_MS = 18.5;
const THREE_CONNECTIONS_CALL_MS = 500;

/** Added cost (ms) that brings a recall to `targetMs` of CPU, given what one costs here. */
let perCall = 0;
const costFor = (targetMs: number): string => Math.max(0, targetMs - perCall).toFixed(2);

/** Each scenario with the specification's bound on its total: 2× one client + 0.5 s; 1.5× one call + 0.3 s. */
const tenClientsRun = async (env: Record<string, string>) => {
  const r = await withDaemon(env, tenClients);
  return { ...r, bound: 2 * r.baseline + 0.5 };
};
const threeConnectionsRun = async (env: Record<string, string>) => {
  const r = await withDaemon(env, threeConnections);
  return { ...r, bound: 1.5 * r.baseline + 0.3 };
};

describe('memory daemon socket concurrency (seeds/000, against a real `colony serve`, 10,000 memories)', () => {
  beforeAll(async () => {
    perCall = await perCallCpuMs();
    console.info(`memory-daemon: one recall costs the daemon ${perCall.toFixed(2)} ms of CPU; sized costs ${costFor(TEN_CLIENTS_CALL_MS)} ms (10×5), ${costFor(THREE_CONNECTIONS_CALL_MS)} ms (3 connections)`);
  }, 60_000);

  it('test_10_concurrent_clients_no_hol_blocking: 10 clients × 5 sequential calls ≤ 2× one client + 0.5 s', async (ctx) => {
    const { baseline, total, bound, ...phases } = await tenClientsRun({});
    report(ctx, '10×5 (workers)', total, bound, phases, 'workers');
    expect(total, `HOL blocking detected: 10 concurrent clients took ${total.toFixed(3)}s vs ${baseline.toFixed(3)}s baseline (>2× ratio + 0.5s slack)`).toBeLessThanOrEqual(bound);
  }, 120_000);

  it('test_3_clients_serialize_per_connection_but_parallel_across: 3 parallel connections ≤ 1.5× one call + 0.3 s', async (ctx) => {
    const { baseline, total, bound, ...phases } = await threeConnectionsRun({});
    report(ctx, '3 connections (workers)', total, bound, phases, 'workers');
    expect(total, `3 parallel connections took ${total.toFixed(3)}s vs ${baseline.toFixed(3)}s single-call baseline (>1.5× + 0.3s slack)`).toBeLessThanOrEqual(bound);
  }, 120_000);

  // The scenarios can fail: the same recall cost, sized so the placements separate, overruns
  // each bound when recall runs on the event loop and stays inside it on the workers.
  describe(`can fail: recall cost sized to ${TEN_CLIENTS_CALL_MS} ms (10×5) and ${THREE_CONNECTIONS_CALL_MS} ms (3 connections) per call`, () => {
    it('test_10_concurrent_clients_no_hol_blocking fails with recall inline on the event loop', async (ctx) => {
      const { baseline, total, bound, ...phases } = await tenClientsRun({ COLONY_TEST_RECALL_INLINE: '1', COLONY_TEST_RECALL_COST: costFor(TEN_CLIENTS_CALL_MS) });
      report(ctx, '10×5 sized (inline)', total, bound, phases, 'inline');
      expect(total, 'inline recall should have head-of-line blocked the 10 clients').toBeGreaterThan(bound);
    }, 120_000);

    it('test_10_concurrent_clients_no_hol_blocking passes on the workers at the same cost', async (ctx) => {
      const { baseline, total, bound, ...phases } = await tenClientsRun({ COLONY_TEST_RECALL_COST: costFor(TEN_CLIENTS_CALL_MS) });
      report(ctx, '10×5 sized (workers)', total, bound, phases, 'workers');
      expect(total).toBeLessThanOrEqual(bound);
    }, 120_000);

    it('test_3_clients_serialize_per_connection_but_parallel_across fails with recall inline on the event loop', async (ctx) => {
      const { baseline, total, bound, ...phases } = await threeConnectionsRun({ COLONY_TEST_RECALL_INLINE: '1', COLONY_TEST_RECALL_COST: costFor(THREE_CONNECTIONS_CALL_MS) });
      report(ctx, '3 connections sized (inline)', total, bound, phases, 'inline');
      expect(total, 'inline recall should have serialised the 3 connections').toBeGreaterThan(bound);
    }, 120_000);

    it('test_3_clients_serialize_per_connection_but_parallel_across passes on the workers at the same cost', async (ctx) => {
      const { baseline, total, bound, ...phases } = await threeConnectionsRun({ COLONY_TEST_RECALL_COST: costFor(THREE_CONNECTIONS_CALL_MS) });
      report(ctx, '3 connections sized (workers)', total, bound, phases, 'workers');
      expect(total).toBeLessThanOrEqual(bound);
    }, 120_000);
  });
});
