import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { compileGlob, GlobError, GLOB_LIMITS } from '../../src/coord/glob.js';
import { openDatabase } from '../../src/lib/sqlite.js';
import { colonyMigrations } from '../../src/daemon/migrations.js';
import { ManualClock } from '../../src/lib/clock.js';
import { CoordService } from '../../src/coord/service.js';
import { makeRecord } from '../../src/coord/records.js';
import { InvalidInputError } from '../../src/lib/errors.js';
import { tempDir } from '../helpers/repo.js';

const cases: [glob: string, path: string, expected: boolean][] = [
  ['src/*.ts', 'src/a.ts', true],
  ['src/*.ts', 'src/x/a.ts', false],
  ['src/*.ts', 'src/.hidden.ts', true],
  ['src/?.ts', 'src/a.ts', true],
  ['src/?.ts', 'src/ab.ts', false],
  ['src/a?b', 'src/a/b', false],
  ['drivers/net/**', 'drivers/net', true],
  ['drivers/net/**', 'drivers/net/e1000/main.c', true],
  ['drivers/net/**', 'drivers/network/x.c', false],
  ['drivers/**/*.h', 'drivers/a.h', true],
  ['drivers/**/*.h', 'drivers/x/y/a.h', true],
  ['drivers/**/*.h', 'drivers/x/y/a.c', false],
  ['**/b', 'b', true],
  ['**/b', 'x/y/b', true],
  ['**/b', 'x/yb', false],
  ['**', 'anything/at/all', true],
  ['a/**/b', 'a/b', true],
  ['a/**/**/b', 'a/x/b', true],
  ['a**b', 'axyb', true],
  ['a**b', 'ax/yb', false],
  ['a/[bc]/d', 'a/c/d', true],
  ['a/[bc]/d', 'a/e/d', false],
  ['a/[a-c]x', 'a/bx', true],
  ['a/[!b]', 'a/c', true],
  ['a/[!b]', 'a/b', false],
  ['a/[^b]', 'a/b', false],
  ['a/[]]', 'a/]', true],
  ['a/{b,c}/d', 'a/c/d', true],
  ['a/{b,c}/d', 'a/e/d', false],
  ['a/{b,{c,e}}/d', 'a/e/d', true],
  ['app/(auth)/*.tsx', 'app/(auth)/login.tsx', true],
  ['a/*a*a*a*a*a*a*a*a*a*a*b', 'a/' + 'a'.repeat(46), false],
  ['a/*a*a*a*a*a*a*a*a*a*a*b', 'a/' + 'a'.repeat(46) + 'b', true],
];

describe('glob matching', () => {
  it.each(cases)('%s against %s is %s', (glob, path, expected) => {
    expect(compileGlob(glob)(path)).toBe(expected);
  });

  it('refuses globs past the complexity limits, naming the rule', () => {
    expect(() => compileGlob('a/' + '*x'.repeat(GLOB_LIMITS.maxStars + 1))).toThrow(/at most 16 '\*' or '\*\*' wildcards/);
    expect(() => compileGlob('{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}')).toThrow(/more than 32 alternatives/);
    expect(() => compileGlob('x'.repeat(200) + '{a,b}'.repeat(5))).toThrow(/more than 4096 characters/);
    expect(() => compileGlob('a/[bc')).toThrow(/unclosed '\['/);
    expect(() => compileGlob('a/{b,c')).toThrow(/unclosed '\{'/);
    expect(() => compileGlob('!a/*')).toThrow(GlobError);
    expect(() => compileGlob('a/\\*')).toThrow(/backslash/);
  });

  it('matches the worst patterns within the limits without backtracking', () => {
    // Each of these would take a backtracking regex engine exponential or high-degree
    // polynomial time; here each call is one pass over the path.
    const worst = ['a/' + '*a'.repeat(15) + '*b', '**/' + '*a'.repeat(14) + '*b', 'a/{' + Array.from({ length: 32 }, (_, i) => '*a'.repeat(14) + `*${i}`).join(',') + '}'];
    for (const g of worst) {
      const m = compileGlob(g);
      expect(m('a/' + 'a'.repeat(1000))).toBe(false);
    }
  });
});

describe('globs in coordination (the 4.5-minute hang)', () => {
  function open(): CoordService {
    const t = tempDir();
    const db = openDatabase(join(t.dir, 'colony.db'), { migrations: colonyMigrations });
    return new CoordService({ db, clock: new ManualClock() });
  }

  it('a held backtracking glob and a check of a/ + 46 a answer at once', { timeout: 10_000 }, () => {
    const coord = open();
    const g = 'a/*a*a*a*a*a*a*a*a*a*a*b';
    expect(coord.reserve({ run_id: 'A', symbols: [g] }).granted).toBe(true);
    expect(coord.check({ symbols: ['a/' + 'a'.repeat(46)] }).holders).toEqual([]);
    expect(coord.check({ symbols: ['a/' + 'a'.repeat(46) + 'b'] }).holders).toHaveLength(1);
    expect(coord.reserve({ run_id: 'B', symbols: ['a/' + 'a'.repeat(1000)] }).granted).toBe(true);
  });

  it('refuses a reservation whose glob breaks a limit with a 400-class error naming the rule', () => {
    const coord = open();
    const err = (() => {
      try {
        coord.reserve({ run_id: 'A', symbols: ['src/' + '*x'.repeat(20)] });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).status).toBe(400);
    expect((err as Error).message).toMatch(/not an accepted glob: at most 16/);
  });

  it('skips and reports a pulled reservation whose glob Colony would refuse', () => {
    const coord = open();
    const bad = makeRecord('reservation', 'R', { reservation_id: 'res_bad', run_id: 'R', symbols: ['x/' + '*y'.repeat(20)], mode: 'exclusive', expires_at: 9e12 }, 1, 9e12, 'peer');
    const good = makeRecord('reservation', 'R', { reservation_id: 'res_ok', run_id: 'R', symbols: ['x/*.ts'], mode: 'exclusive', expires_at: 9e12 }, 1, 9e12, 'peer');
    const r = coord.writeRemoteRecords([bad, good]);
    expect(r.inserted).toBe(1);
    expect(r.refused).toEqual([{ record_id: bad.record_id, kind: 'reservation', origin: 'peer', reason: expect.stringMatching(/not an accepted glob: at most 16/) }]);
    expect(coord.check({ symbols: ['x/a.ts'] }).holders.map((h) => h.reservation_id)).toEqual(['res_ok']);
  });
});
