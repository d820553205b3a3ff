import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/runner/scheduler.js';
import { firstRedPrefix } from '../../src/land/bisect.js';

describe('scheduler gate', () => {
  it('holds a gated item back in its place while later ones start, and starts it on kick once allowed', async () => {
    const allowed = new Set(['b', 'c']);
    const seen: [string, string[]][] = [];
    const s = new Scheduler(2, 10, (id, passed) => {
      seen.push([id, [...passed]]);
      return allowed.has(id);
    });
    const started: string[] = [];
    const release: Record<string, () => void> = {};
    const job = (id: string) => () => {
      started.push(id);
      return new Promise<void>((r) => (release[id] = r));
    };
    s.enqueue('a', job('a'));
    s.enqueue('b', job('b'));
    s.enqueue('c', job('c'));
    expect(started).toEqual(['b', 'c']);
    expect(s.positionOf('a')).toBe(1);
    expect(seen).toContainEqual(['c', ['a']]);
    allowed.add('a');
    s.kick(); // no free slot yet
    expect(started).toEqual(['b', 'c']);
    release.b!();
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual(['b', 'c', 'a']);
  });
});

describe('bisection over prefixes', () => {
  it.each([0, 3, 7, 15])('finds the first red prefix (culprit %i of 16) in few rounds', async (culprit) => {
    const tested: number[] = [];
    const r = await firstRedPrefix(16, { ok: false }, async (p) => {
      tested.push(p);
      return { ok: p < culprit };
    }, 2);
    expect(r.culprit).toBe(culprit);
    expect(r.results.get(culprit)?.ok).toBe(false);
    if (culprit > 0) expect(r.results.get(culprit - 1)?.ok).toBe(true);
    expect(tested.length).toBeLessThanOrEqual(6);
  });
});
