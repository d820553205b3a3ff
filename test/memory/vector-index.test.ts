import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/lib/sqlite.js';
import { colonyMigrations } from '../../src/daemon/migrations.js';
import { ManualClock } from '../../src/lib/clock.js';
import { MemoryService } from '../../src/memory/service.js';
import { VectorIndex } from '../../src/memory/vector-index.js';
import { normaliseVector, type Embedder } from '../../src/memory/embedders/index.js';
import { tempDir } from '../helpers/repo.js';

let cleanups: (() => unknown)[] = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

/** Texts like "v:1,0,0" embed to that vector: nearest neighbours are known in advance. */
class LiteralEmbedder implements Embedder {
  readonly lexical = false;
  constructor(readonly id = 'literal') {}
  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => normaliseVector(Float32Array.from((/v:([-\d.,]+)/.exec(t)?.[1] ?? '0,0,1').split(',').map(Number))));
  }
}

function open(): { db: Db; reader: Db } {
  const t = tempDir();
  const db = openDatabase(join(t.dir, 'colony.db'), { migrations: colonyMigrations });
  const reader = openDatabase(join(t.dir, 'colony.db'), { readonly: true });
  cleanups.push(t.cleanup, () => db.close(), () => reader.close());
  return { db, reader };
}

/** Store texts; their rowids by text. */
const ids = async (m: MemoryService, texts: string[], scope?: string): Promise<Map<string, number>> => {
  await m.storeMany(texts.map((text) => ({ text, scope })));
  const rowid = m.rows.db.prepare('SELECT rowid FROM memories WHERE text = ?').pluck();
  return new Map(texts.map((t) => [t, rowid.get(t) as number]));
};

describe('vector index', () => {
  it('finds nearest neighbours per scope and follows stores, forgets and re-embeds from another connection', async () => {
    const { db, reader } = open();
    const m = new MemoryService(db, new ManualClock(), new LiteralEmbedder());
    const rows = await ids(m, ['a v:1,0,0', 'b v:0.9,0.1,0', 'c v:0,1,0', 'd v:0,0,1']);
    const other = await ids(m, ['x v:1,0,0'], 'team');
    const index = new VectorIndex(reader, 'literal');
    index.refresh();
    const q = normaliseVector(Float32Array.of(1, 0.05, 0));
    expect(index.search('repo', q, 2)).toEqual([rows.get('a v:1,0,0'), rows.get('b v:0.9,0.1,0')]);
    expect(index.search('team', q, 5)).toEqual([other.get('x v:1,0,0')]);
    expect(index.search('nobody', q, 5)).toEqual([]);

    // A new memory, written on the other connection, is found after refresh.
    const more = await ids(m, ['e v:1,0.02,0']);
    index.refresh();
    expect(index.search('repo', q, 1)).toEqual([more.get('e v:1,0.02,0')]);

    // Forgotten: gone from results.
    m.forget({ id: m.list({ limit: 100 }).memories.find((x) => x.text === 'e v:1,0.02,0')!.id });
    index.refresh();
    expect(index.search('repo', q, 5)).not.toContain(more.get('e v:1,0.02,0'));
    expect(index.search('repo', q, 5)).toHaveLength(4);

    // Re-embedded by another embedder: this embedder's index drops the row, the other's gains it.
    const rowid = rows.get('c v:0,1,0')!;
    m.rows.setVector(rowid, 'c v:0,1,0', 'other', Float32Array.of(0, 1, 0));
    index.refresh();
    expect(index.search('repo', normaliseVector(Float32Array.of(0, 1, 0)), 5)).not.toContain(rowid);
    const otherIndex = new VectorIndex(reader, 'other');
    otherIndex.refresh();
    expect(otherIndex.search('repo', Float32Array.of(0, 1, 0), 5)).toEqual([rowid]);
  });

  it('takes the top k of many, best first', async () => {
    const { db, reader } = open();
    const m = new MemoryService(db, new ManualClock(), new LiteralEmbedder());
    await m.storeMany(Array.from({ length: 500 }, (_, i) => ({ text: `n${i} v:${Math.cos(i / 100)},${Math.sin(i / 100)},0` })));
    const index = new VectorIndex(reader, 'literal');
    index.refresh();
    const got = index.search('repo', Float32Array.of(1, 0, 0), 10);
    const texts = got.map((rowid) => (reader.prepare('SELECT text FROM memories WHERE rowid = ?').get(rowid) as { text: string }).text.split(' ')[0]);
    expect(texts).toEqual(Array.from({ length: 10 }, (_, i) => `n${i}`));
  });
});
