// The conformance test's recall-cost switch: validated, and nothing at all when unset.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../helpers/daemon.js';

const MODULE = pathToFileURL(join(ROOT, 'dist', 'src', 'memory', 'test-recall-cost.js')).href;

/** Call burnTestRecallCost in a fresh process (the cost is read once per thread). */
function burn(value: string | undefined): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env.COLONY_TEST_RECALL_COST;
  if (value !== undefined) env.COLONY_TEST_RECALL_COST = value;
  const script = `const m = await import(${JSON.stringify(MODULE)}); try { m.burnTestRecallCost(); console.log('ok'); } catch (e) { console.log(e.code + ': ' + e.message); }`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 30_000 });
}

describe('COLONY_TEST_RECALL_COST (test only)', () => {
  it('unset, empty or 0 does nothing; a number of milliseconds is accepted', () => {
    for (const v of [undefined, '', '0', '2.5']) expect(burn(v).stdout.trim()).toBe('ok');
  });

  it('anything else is refused, naming the variable and its range', () => {
    for (const v of ['fast', '-1', '1001']) {
      expect(burn(v).stdout.trim()).toMatch(/^bad_test_recall_cost: COLONY_TEST_RECALL_COST must be milliseconds from 0 to 1000: /);
    }
  });
});
