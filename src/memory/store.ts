import type { Statement } from 'better-sqlite3';
import type { Db } from '../lib/sqlite.js';

/** A stored memory as its row. */
export interface MemoryRow {
  rowid: number;
  id: string;
  scope: string;
  text: string;
  tags: string;
  source: string | null;
  run_id: string | null;
  tokens: number;
  created_at: number;
  updated_at: number;
  embedder: string;
  /** The agent's keywords for it, space-separated. */
  keywords: string;
}

/** A row to insert: the stored fields, the hash that dedupes it, and its vector. */
/** `terms`: the text's identifier parts, indexed beside it (see terms.ts). */
export type NewMemory = Omit<MemoryRow, 'rowid'> & { text_hash: string; vector: Buffer; terms: string };

const COLUMNS = 'rowid, id, scope, text, tags, source, run_id, tokens, created_at, updated_at, embedder, keywords';
/** The next vector sequence number (see migration 5). */
const NEXT_SEQ = '(SELECT coalesce(max(vec_seq), 0) + 1 FROM memories)';

export const vectorBlob = (v: Float32Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/** The memory tables' writes and bookkeeping reads, on the daemon's connection. Recall's reads live in recall.ts. */
export class MemoryStore {
  private readonly s: {
    byHash: Statement;
    insert: Statement;
    refresh: Statement;
    forget: Statement;
    list: Statement;
    listAll: Statement;
    stats: Statement;
    byEmbedder: Statement;
    stale: Statement;
    setVector: Statement;
  };

  constructor(readonly db: Db) {
    const p = (sql: string): Statement => db.prepare(sql);
    this.s = {
      byHash: p(`SELECT ${COLUMNS} FROM memories WHERE scope = ? AND text_hash = ?`),
      insert: p(`INSERT INTO memories (id, scope, text, text_hash, tags, keywords, terms, source, run_id, tokens, created_at, updated_at, embedder, vector, vec_seq)
        VALUES (@id, @scope, @text, @text_hash, @tags, @keywords, @terms, @source, @run_id, @tokens, @created_at, @updated_at, @embedder, @vector, ${NEXT_SEQ})`),
      refresh: p('UPDATE memories SET updated_at = ?, tags = ?, keywords = ? WHERE rowid = ?'),
      forget: p('DELETE FROM memories WHERE id = ?'),
      list: p(`SELECT ${COLUMNS} FROM memories WHERE scope = ? AND rowid < ? ORDER BY rowid DESC LIMIT ?`),
      listAll: p(`SELECT ${COLUMNS} FROM memories WHERE rowid < ? ORDER BY rowid DESC LIMIT ?`),
      stats: p('SELECT scope, count, tokens FROM memory_scope_counts ORDER BY scope'),
      byEmbedder: p('SELECT embedder, count FROM memory_embedder_counts'),
      stale: p('SELECT rowid, text FROM memories WHERE embedder != ? ORDER BY rowid LIMIT ?'),
      setVector: p(`UPDATE memories SET vector = ?, embedder = ?, vec_seq = ${NEXT_SEQ} WHERE rowid = ? AND text = ?`),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  byHash(scope: string, hash: string): MemoryRow | undefined {
    return this.s.byHash.get(scope, hash) as MemoryRow | undefined;
  }

  insert(row: NewMemory): void {
    this.s.insert.run(row);
  }

  refresh(rowid: number, at: number, tags: string, keywords: string): void {
    this.s.refresh.run(at, tags, keywords, rowid);
  }

  forget(id: string): boolean {
    return this.s.forget.run(id).changes > 0;
  }

  /** Newest first, before a rowid cursor. */
  list(scope: string | undefined, beforeRowid: number, limit: number): MemoryRow[] {
    return (scope ? this.s.list.all(scope, beforeRowid, limit) : this.s.listAll.all(beforeRowid, limit)) as MemoryRow[];
  }

  scopeStats(): { scope: string; count: number; tokens: number }[] {
    return this.s.stats.all() as { scope: string; count: number; tokens: number }[];
  }

  /** How many rows carry vectors of each embedder. */
  embedderCounts(): Map<string, number> {
    return new Map((this.s.byEmbedder.all() as { embedder: string; count: number }[]).map((r) => [r.embedder, r.count]));
  }

  /** Rows whose vectors came from another embedder, oldest first. */
  stale(embedder: string, limit: number): { rowid: number; text: string }[] {
    return this.s.stale.all(embedder, limit) as { rowid: number; text: string }[];
  }

  /** Replace a row's vector, unless it was deleted or changed meanwhile. */
  setVector(rowid: number, text: string, embedder: string, vector: Float32Array): boolean {
    return this.s.setVector.run(vectorBlob(vector), embedder, rowid, text).changes > 0;
  }
}

/** A stored vector as floats (a view when aligned, else a copy). */
export function vectorOf(blob: Buffer): Float32Array {
  if (blob.byteOffset % 4 === 0) return new Float32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4);
  return new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));
}
