import type { Statement } from 'better-sqlite3';
import type { Db } from '../lib/sqlite.js';
import { stem } from './terms.js';

/** Stems remembered at most; past that the cache starts over (a bound on memory, not a working set). */
const MAX_ENTRIES = 50_000;
/** Share of the store that may change before the cached counts are thrown away. */
const DRIFT_SHARE = 0.01;

/**
 * How many memories hold each word, cached per connection. fts5vocab counts a term's
 * documents by reading its whole posting list, so asking it for a common word on every
 * recall cost milliseconds at 100,000 memories. Recall only needs these counts to tell
 * rare words from common ones and to weigh feedback terms, so a count may lag a little:
 * the cache is kept while fewer than 1 % of the store's memories were added or removed
 * since it was filled (any change, for stores under 100), and dropped as a whole after
 * that. Works on read-only connections (the recall workers'): it notices other
 * connections' writes by the store's size and highest rowid, not by being told.
 */
export class DocFrequencies {
  private readonly s: { df: Statement; size: Statement };
  private readonly counts = new Map<string, number>();
  /** The store's size and highest rowid when the cache was (re)started. */
  private mark = { total: -1, maxRowid: -1 };
  private total = 0;

  constructor(db: Db) {
    this.s = {
      df: db.prepare('SELECT doc FROM memories_vocab WHERE term = ?'),
      size: db.prepare('SELECT (SELECT coalesce(sum(count), 0) FROM memory_scope_counts) AS total, (SELECT coalesce(max(rowid), 0) FROM memories) AS maxRowid'),
    };
  }

  /** Read the store's size (once per recall) and drop the counts if it drifted; returns the number of memories. */
  sync(): number {
    const now = this.s.size.get() as { total: number; maxRowid: number };
    const added = Math.max(0, now.maxRowid - this.mark.maxRowid);
    const removed = Math.max(0, this.mark.total + added - now.total);
    if (added + removed > Math.floor(this.mark.total * DRIFT_SHARE) || this.counts.size >= MAX_ENTRIES) {
      this.counts.clear();
      this.mark = now;
    }
    this.total = now.total;
    return this.total;
  }

  /** How many memories hold the word (its stem, as the index keeps it). */
  of(word: string): number {
    const s = stem(word);
    let n = this.counts.get(s);
    if (n === undefined) {
      n = (this.s.df.get(s) as { doc: number } | undefined)?.doc ?? 0;
      this.counts.set(s, n);
    }
    return n;
  }
}
