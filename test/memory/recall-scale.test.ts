import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/lib/sqlite.js';
import { colonyMigrations } from '../../src/daemon/migrations.js';
import { ManualClock } from '../../src/lib/clock.js';
import { MemoryService } from '../../src/memory/service.js';
import { DocFrequencies } from '../../src/memory/doc-frequencies.js';
import { Cooccurrence } from '../../src/memory/cooccurrence.js';
import { stem } from '../../src/memory/terms.js';
import { tempDir } from '../helpers/repo.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.reverse().forEach((c) => c());
  cleanups = [];
});

function open(readonlyToo = false): { memory: MemoryService; file: string; reader?: Db } {
  const t = tempDir();
  const file = join(t.dir, 'colony.db');
  const db = openDatabase(file, { migrations: colonyMigrations });
  cleanups.push(t.cleanup, () => db.close());
  const reader = readonlyToo ? openDatabase(file, { readonly: true }) : undefined;
  if (reader) cleanups.push(() => reader.close());
  return { memory: new MemoryService(db, new ManualClock()), file, reader };
}

describe('document frequencies', () => {
  it('follow another connection’s writes, lagging by at most 1 % of the store', async () => {
    const { memory, reader } = open(true);
    const df = new DocFrequencies(reader!);
    await memory.store({ text: 'alpha beta' });
    expect(df.sync()).toBe(1);
    expect(df.of('alpha')).toBe(1);
    expect(df.of('zebra')).toBe(0);
    // A small store: any write drops the counts.
    await memory.store({ text: 'zebra crossing' });
    expect(df.sync()).toBe(2);
    expect(df.of('zebra')).toBe(1);

    await memory.storeMany(Array.from({ length: 300 }, (_, i) => ({ text: `gamma ray ${i}` })));
    expect(df.sync()).toBe(302);
    expect(df.of('gamma')).toBe(300);
    // Three more are under 1 % of 302: the cached count stands; past 1 % it is read again.
    await memory.storeMany(Array.from({ length: 3 }, (_, i) => ({ text: `gamma burst ${i}` })));
    expect(df.sync()).toBe(305);
    expect(df.of('gamma')).toBe(300);
    await memory.store({ text: 'gamma again' });
    expect(df.sync()).toBe(306);
    expect(df.of('gamma')).toBe(304);
    // Forgetting counts as a change too.
    for (const m of memory.list({ limit: 5 }).memories) memory.forget({ id: m.id });
    df.sync();
    expect(df.of('gamma')).toBe(299);
  });
});

describe('recall over a store where some words are everywhere', () => {
  it('ranks by the rarer words, and for common words alone gives the newest memories holding them all', async () => {
    const { memory } = open();
    const kerberos = 'Kerberos tickets expire overnight and then the build fails.';
    await memory.store({ text: kerberos });
    // 300 memories sharing "build", "fails", "runner": common words (over 200 memories and 5 %).
    await memory.storeMany(Array.from({ length: 300 }, (_, i) => ({ text: `Note ${i}: the build fails on runner r${i}${i % 2 ? ' after a deploy' : ''}.` })));
    const common = await memory.recall({ cue: 'why the build fails', budget_tokens: 100_000, k: 5 });
    expect(common.memories.map((m) => m.text)).toEqual(['Note 299: the build fails on runner r299 after a deploy.', 'Note 298: the build fails on runner r298.', 'Note 297: the build fails on runner r297 after a deploy.', 'Note 296: the build fails on runner r296.', 'Note 295: the build fails on runner r295 after a deploy.']);
    const rare = await memory.recall({ cue: 'build fails because kerberos', budget_tokens: 100_000, k: 3, explain: true });
    expect(rare.memories[0]!.text).toBe(kerberos);
    expect(rare.memories[0]!.explain!.matched.sort()).toEqual(['build', 'fails', 'kerberos']);
    // The newest memories holding all the common words follow the ranked ones.
    expect(rare.memories[1]!.text).toBe('Note 299: the build fails on runner r299 after a deploy.');
    // Another scope's memories stay out, though all of them are newer and hold the same words.
    await memory.storeMany([0, 1].map((i) => ({ text: `Team note ${i}: the build fails on runner t${i}.`, scope: 'team' })));
    await memory.store({ text: 'Newest repo note: the build fails on runner z.' });
    const team = await memory.recall({ cue: 'why the build fails on the runner', budget_tokens: 100_000, k: 5, scope: 'team' });
    expect(team.memories.map((m) => m.text)).toEqual(['Team note 1: the build fails on runner t1.', 'Team note 0: the build fails on runner t0.']);
    const repo = await memory.recall({ cue: 'why the build fails on the runner', budget_tokens: 100_000, k: 2 });
    expect(repo.memories.map((m) => m.text)).toEqual(['Newest repo note: the build fails on runner z.', 'Note 299: the build fails on runner r299 after a deploy.']);
  });
});

describe('co-occurrence expansion', () => {
  it('brings the words that keep company with a cue word in the memories, not the ones found everywhere', async () => {
    const { memory, reader } = open(true);
    await memory.storeMany([
      { text: 'The cron entry for the nightly export lives in ops.' },
      { text: 'Our cron jobs run nightly at 02:00 UTC, see ops.' },
      { text: 'A cron schedule change needs the nightly report owner to agree.' },
      ...Array.from({ length: 40 }, (_, i) => ({ text: `The export ${i} of the report lives in ops.` })),
    ]);
    const df = new DocFrequencies(reader!);
    const total = df.sync();
    const words = new Cooccurrence(reader!, df).expand(['cron'], new Set([stem('cron')]), total, 3, 200);
    expect(words[0]).toBe('nightly');
    // "export", "report" and "ops" are everywhere: no association beyond chance.
    expect(words).not.toContain('export');
    expect(words).not.toContain('ops');
  });
});
