import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Daemon } from '../../src/daemon/daemon.js';
import { ROOT, startTestDaemon } from '../helpers/daemon.js';
import { RpcClient } from '../../bench/rpc-client.js';
import { makeTempRepo, tempDir } from '../helpers/repo.js';

let d: Daemon;
let cleanup: () => void;
beforeAll(async () => {
  const repo = makeTempRepo();
  cleanup = repo.cleanup;
  d = await startTestDaemon(repo.dir);
});
afterAll(async () => {
  await d.close();
  cleanup();
});

describe('coordination under concurrency', () => {
  it('50 socket connections reserving overlapping symbols: exactly one wins each conflict', async () => {
    const clients = await Promise.all(Array.from({ length: 50 }, () => RpcClient.connect(d.socket.path)));
    // Five groups of ten runs fight over one file each, every run asking for a different symbol layout.
    const results = await Promise.all(
      clients.map((c, i) => {
        const file = `src/group${i % 5}.ts`;
        const symbols = i % 3 === 0 ? [file] : i % 3 === 1 ? [`${file}::Api`] : [`${file}::Api.get`, `other/${i}.ts`];
        return c.call('coord_reserve', { run_id: `run-${i}`, symbols });
      }),
    );
    for (let g = 0; g < 5; g++) {
      const group = results.filter((_, i) => i % 5 === g);
      expect(group.filter((r) => r.granted)).toHaveLength(1);
      const winner = group.find((r) => r.granted);
      for (const loser of group.filter((r) => !r.granted)) {
        expect(loser.conflicts.map((c: any) => c.reservation_id)).toEqual([winner.reservation_id]);
      }
    }
    clients.forEach((c) => c.close());
  });

  it('50 socket connections claiming one task: exactly one wins', async () => {
    const { task_id } = d.coord.taskCreate({ run_id: 'planner', description: 'the one task' });
    const clients = await Promise.all(Array.from({ length: 50 }, () => RpcClient.connect(d.socket.path)));
    const results = await Promise.all(clients.map((c, i) => c.call('task_claim', { run_id: `w-${i}`, task_id })));
    const winners = results.filter((r) => r.claimed);
    expect(winners).toHaveLength(1);
    const winnerRun = `w-${results.indexOf(winners[0])}`;
    for (const r of results.filter((x) => !x.claimed)) expect(r.holder.run_id).toBe(winnerRun);
    clients.forEach((c) => c.close());
  });

  it('50 separate processes on the same store: one reservation and one claim win', async () => {
    const t = tempDir();
    try {
      const go = join(t.dir, 'go');
      const { task_id } = d.coord.taskCreate({ run_id: 'planner', description: 'contested' });
      const worker = join(ROOT, 'test', 'fixtures', 'coord-worker.mjs');
      const run = (args: string[]): Promise<any> =>
        new Promise((resolve, reject) =>
          execFile(process.execPath, [worker, d.paths.db, go, ...args], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(JSON.parse(stdout)))),
        );
      const procs = Array.from({ length: 50 }, (_, i) =>
                // Reservers ask for `K` or `K.sub`: every pair overlaps.
        i % 2 === 0 ? run(['reserve', `p-${i}`, JSON.stringify([`contested.ts::K${i % 4 === 0 ? '' : '.sub'}`])]) : run(['claim', `p-${i}`, task_id]),
      );
      // Let every process open the database, then start them together.
      await new Promise((r) => setTimeout(r, 1500));
      writeFileSync(go, '');
      const results = await Promise.all(procs);
      const reserves = results.filter((_, i) => i % 2 === 0);
      const claims = results.filter((_, i) => i % 2 === 1);
      expect(reserves.filter((r) => r.granted)).toHaveLength(1);
      expect(claims.filter((r) => r.claimed)).toHaveLength(1);
    } finally {
      t.cleanup();
    }
  }, 60_000);
});
