import type { Statement } from 'better-sqlite3';
import type { Db } from '../lib/sqlite.js';
import { vectorOf } from './store.js';

/**
 * The vectors of one embedder, held in one Float32Array for exact nearest-neighbour search
 * by brute force (100,000 × 100 dimensions scan in a few milliseconds; no approximate index
 * to tune or rebuild). It follows the database: rows stored or re-embedded since the last
 * look are appended by their vec_seq; when rows were deleted it reloads.
 */
export class VectorIndex {
  private dim = 0;
  private size = 0;
  private data = new Float32Array(0);
  private rowids = new Float64Array(0);
  private scopeOf = new Int32Array(0);
  private readonly scopes = new Map<string, number>();
  private lastSeq = 0;
  private signature = '';
  private readonly s: { since: Statement; count: Statement; version: Statement };

  constructor(
    private readonly db: Db,
    readonly embedder: string,
  ) {
    this.s = {
      since: db.prepare('SELECT rowid, scope, vector, vec_seq FROM memories WHERE vec_seq > ? AND embedder = ? ORDER BY vec_seq'),
      // Kept by triggers (migration 6): a lookup, not a scan of every row after each write.
      count: db.prepare('SELECT coalesce((SELECT count FROM memory_embedder_counts WHERE embedder = ?), 0) AS n'),
      // data_version moves on other connections' commits, total_changes on this one's.
      version: db.prepare('SELECT total_changes() AS changes'),
    };
  }

  /** Catch up with the database; cheap when nothing changed. */
  refresh(): void {
    const signature = `${this.db.pragma('data_version', { simple: true })}:${(this.s.version.get() as { changes: number }).changes}`;
    if (signature === this.signature) return;
    this.signature = signature;
    this.load(this.lastSeq);
    const { n } = this.s.count.get(this.embedder) as { n: number };
    if (n !== this.size) {
      // Rows left (forgotten, or re-embedded by another embedder): start over.
      this.size = 0;
      this.lastSeq = 0;
      this.load(0);
    }
  }

  private load(after: number): void {
    for (const r of this.s.since.iterate(after, this.embedder) as Iterable<{ rowid: number; scope: string; vector: Buffer; vec_seq: number }>) {
      const v = vectorOf(r.vector);
      if (this.dim === 0) this.dim = v.length;
      if (v.length !== this.dim) continue;
      this.grow(this.size + 1);
      this.data.set(v, this.size * this.dim);
      this.rowids[this.size] = r.rowid;
      let scope = this.scopes.get(r.scope);
      if (scope === undefined) this.scopes.set(r.scope, (scope = this.scopes.size));
      this.scopeOf[this.size] = scope;
      this.size++;
      this.lastSeq = r.vec_seq;
    }
  }

  private grow(n: number): void {
    if (n <= this.rowids.length) return;
    const cap = Math.max(1024, this.rowids.length * 2, n);
    const data = new Float32Array(cap * this.dim);
    data.set(this.data.subarray(0, this.size * this.dim));
    const rowids = new Float64Array(cap);
    rowids.set(this.rowids.subarray(0, this.size));
    const scopeOf = new Int32Array(cap);
    scopeOf.set(this.scopeOf.subarray(0, this.size));
    this.data = data;
    this.rowids = rowids;
    this.scopeOf = scopeOf;
  }

  /** The rowids of the `n` vectors in `scope` most similar to `query`, best first. */
  search(scope: string, query: Float32Array, n: number): number[] {
    const s = this.scopes.get(scope);
    if (s === undefined || query.length !== this.dim) return [];
    // The hot loop of a semantic recall: locals, not fields, so V8 keeps them in registers.
    const { dim, size, data, scopeOf } = this;
    const heap = new TopK(n);
    const tail = dim - (dim % 4);
    for (let i = 0, at = 0; i < size; i++, at += dim) {
      if (scopeOf[i] !== s) continue;
      // Four running sums: independent additions the CPU can overlap.
      let d0 = 0;
      let d1 = 0;
      let d2 = 0;
      let d3 = 0;
      let j = 0;
      for (; j < tail; j += 4) {
        d0 += data[at + j]! * query[j]!;
        d1 += data[at + j + 1]! * query[j + 1]!;
        d2 += data[at + j + 2]! * query[j + 2]!;
        d3 += data[at + j + 3]! * query[j + 3]!;
      }
      for (; j < dim; j++) d0 += data[at + j]! * query[j]!;
      heap.offer(d0 + d1 + d2 + d3, i);
    }
    return heap.sorted().map((i) => this.rowids[i]!);
  }
}

/** The k best (score, item) pairs seen, in a binary min-heap on score. */
class TopK {
  private readonly scores: Float64Array;
  private readonly items: Int32Array;
  private n = 0;

  constructor(private readonly k: number) {
    this.scores = new Float64Array(k);
    this.items = new Int32Array(k);
  }

  offer(score: number, item: number): void {
    if (this.n < this.k) {
      let i = this.n++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (this.scores[parent]! <= score) break;
        this.scores[i] = this.scores[parent]!;
        this.items[i] = this.items[parent]!;
        i = parent;
      }
      this.scores[i] = score;
      this.items[i] = item;
    } else if (score > this.scores[0]!) {
      this.siftDown(score, item);
    }
  }

  private siftDown(score: number, item: number): void {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.n) break;
      const r = l + 1;
      const c = r < this.n && this.scores[r]! < this.scores[l]! ? r : l;
      if (this.scores[c]! >= score) break;
      this.scores[i] = this.scores[c]!;
      this.items[i] = this.items[c]!;
      i = c;
    }
    this.scores[i] = score;
    this.items[i] = item;
  }

  sorted(): number[] {
    return Array.from({ length: this.n }, (_, i) => i)
      .sort((a, b) => this.scores[b]! - this.scores[a]!)
      .map((i) => this.items[i]!);
  }
}
