import { describe, expect, it } from 'vitest';
import { settleDependencies } from '../../src/swarm/dependencies.js';
import type { SwarmTask } from '../../src/swarm/index.js';

const task = (task_id: string, state: SwarmTask['state'], depends_on: string[] = []): SwarmTask => ({
  task_id,
  key: task_id,
  description: task_id,
  depends_on,
  reserve: [],
  priority: 0,
  state,
  attempts: 0,
  job_id: null,
  job_ids: [],
  worker: null,
  reason: null,
});

describe('settleDependencies', () => {
  it('readies what has landed dependencies, keeps the rest waiting with why, and blocks dependants of a stuck task transitively', () => {
    const tasks = [
      task('a', 'landed'),
      task('b', 'waiting', ['a']),
      task('c', 'waiting', ['b']),
      task('s', 'stuck'),
      task('d', 'ready', ['s']),
      task('e', 'waiting', ['d', 'a']),
      task('x', 'waiting', ['outside']),
      task('y', 'waiting', ['done-outside']),
    ];
    const patches = settleDependencies(tasks, (id) => id === 'outside');
    const state = Object.fromEntries(tasks.map((t) => [t.task_id, [t.state, t.reason]]));
    expect(state).toEqual({
      a: ['landed', null],
      b: ['ready', null],
      c: ['waiting', 'waiting on b'],
      s: ['stuck', null],
      d: ['stuck', 'blocked by s'],
      e: ['stuck', 'blocked by d'],
      x: ['waiting', 'waiting on outside, a task outside this swarm'],
      y: ['ready', null],
    });
    // Every change is returned to be stored; settling again changes nothing.
    expect(patches.map((p) => p.task.task_id).sort()).toEqual(['b', 'c', 'd', 'e', 'x', 'y']);
    expect(settleDependencies(tasks, (id) => id === 'outside')).toEqual([]);
  });
});
