import type { Statement } from 'better-sqlite3';
import { countTokens } from 'gpt-tokenizer';
import type { Db } from '../lib/sqlite.js';
import type { Clock } from '../lib/clock.js';
import { newId, sha256Hex } from '../lib/ids.js';
import { InvalidInputError } from '../lib/errors.js';
import { LexicalEmbedder, cosine } from './embedders/lexical.js';

export interface StoreInput {
  text: string;
  tags?: string[];
  scope?: string;
  source?: string;
  run_id?: string;
}

export interface RecalledMemory {
  id: string;
  text: string;
  score: number;
  tokens: number;
  created_at: string;
  tags: string[];
}

export interface RecallInput {
  cue: string;
  budget_tokens: number;
  scope?: string;
  k?: number;
  tags?: string[];
}

interface Row {
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
  vector: Buffer;
}

/** Candidates taken from each ranked list before fusion. */
const CANDIDATES = 100;
/** Reciprocal rank fusion constant (the usual 60). */
const RRF_K = 60;
/** A fresh memory scores up to this much more, halving every 30 days: a mild tilt, not a sort key. */
const RECENCY_BOOST = 0.1;
const RECENCY_HALF_LIFE_MS = 30 * 86_400_000;
export const MAX_TEXT_BYTES = 64 * 1024;

const normalise = (text: string): string => text.trim().replace(/\s+/g, ' ');
const iso = (ms: number): string => new Date(ms).toISOString();

/** Words that carry no topic: dropped from queries (they would match nearly everything). */
const STOPWORDS = new Set(
  'a an and are as at be but by can could did do does for from had has have how i if in into is it its me my no not of on or our should so than that the their them then there these they this to too was we were what when where which while who why will with would you your'.split(' '),
);

/** The cue's distinct topical words, longest first (longer words tend to be rarer). */
function cueTerms(cue: string): string[] {
  const words = [...new Set(cue.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? [])].filter((w) => !STOPWORDS.has(w));
  return words.sort((a, b) => b.length - a.length).slice(0, 12);
}

/** An FTS5 expression of quoted terms (never operators from input). */
const fts = (terms: string[], op: 'AND' | 'OR'): string => terms.map((w) => `"${w.replace(/"/g, '')}"`).join(` ${op} `);

/**
 * Shared long-term memory: store what was learned, recall what fits a token budget.
 * Recall is hybrid: BM25 over words and over character trigrams (SQLite FTS5) picks the
 * candidates, the embedder's cosine similarity ranks them too, and reciprocal rank fusion
 * with a mild recency boost orders them before greedy packing into the budget. Only
 * candidates are scored, so a recall costs the same over 1,000 or 100,000 memories.
 */
export class MemoryService {
  readonly embedder = new LexicalEmbedder();
  private readonly s: Record<string, Statement>;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    const p = (sql: string): Statement => db.prepare(sql);
    this.s = {
      byHash: p('SELECT rowid, * FROM memories WHERE scope = ? AND text_hash = ?'),
      insert: p(`INSERT INTO memories (id, scope, text, text_hash, tags, source, run_id, tokens, created_at, updated_at, embedder, vector)
        VALUES (@id, @scope, @text, @text_hash, @tags, @source, @run_id, @tokens, @created_at, @updated_at, @embedder, @vector)`),
      refresh: p('UPDATE memories SET updated_at = ?, tags = ? WHERE rowid = ?'),
      forget: p('DELETE FROM memories WHERE id = ?'),
      bm25: p(`SELECT m.rowid FROM memories_fts f JOIN memories m ON m.rowid = f.rowid
        WHERE memories_fts MATCH @q AND m.scope = @scope ORDER BY bm25(memories_fts) LIMIT @n`),
      hasTerm: p('SELECT 1 FROM memories_fts WHERE memories_fts MATCH ? LIMIT 1'),
      tri: p(`SELECT m.rowid FROM memories_tri f JOIN memories m ON m.rowid = f.rowid
        WHERE memories_tri MATCH @q AND m.scope = @scope ORDER BY bm25(memories_tri) LIMIT @n`),
      rows: p('SELECT rowid, * FROM memories WHERE rowid IN (SELECT value FROM json_each(?))'),
      list: p('SELECT rowid, * FROM memories WHERE scope = ? AND rowid < ? ORDER BY rowid DESC LIMIT ?'),
      listAll: p('SELECT rowid, * FROM memories WHERE rowid < ? ORDER BY rowid DESC LIMIT ?'),
      stats: p('SELECT scope, COUNT(*) AS count, SUM(tokens) AS tokens FROM memories GROUP BY scope ORDER BY scope'),
    };
  }

  store(input: StoreInput): { id: string; tokens: number } {
    return this.db.transaction(() => this.storeOne(input))();
  }

  /** Many at once, in one transaction: what `memory import` uses. */
  storeMany(inputs: StoreInput[]): { id: string; tokens: number }[] {
    return this.db.transaction(() => inputs.map((i) => this.storeOne(i)))();
  }

  private storeOne(input: StoreInput): { id: string; tokens: number } {
    const text = normalise(input.text ?? '');
    if (!text) throw new InvalidInputError('text: must not be empty', { fields: ['text'] });
    if (Buffer.byteLength(text) > MAX_TEXT_BYTES) throw new InvalidInputError(`text: longer than ${MAX_TEXT_BYTES} bytes`, { fields: ['text'] });
    const scope = input.scope ?? 'repo';
    const tags = [...new Set(input.tags ?? [])].sort();
    const now = this.clock.now();
    const hash = sha256Hex(text);
    const existing = this.s.byHash!.get(scope, hash) as Row | undefined;
    if (existing) {
      // The same lesson again: refresh it rather than keep two copies.
      const merged = [...new Set([...(JSON.parse(existing.tags) as string[]), ...tags])].sort();
      this.s.refresh!.run(now, JSON.stringify(merged), existing.rowid);
      return { id: existing.id, tokens: existing.tokens };
    }
    const id = newId('mem', now);
    const tokens = countTokens(text);
    const vector = this.embedder.embedOne(text);
    this.s.insert!.run({
      id,
      scope,
      text,
      text_hash: hash,
      tags: JSON.stringify(tags),
      source: input.source ?? null,
      run_id: input.run_id ?? null,
      tokens,
      created_at: now,
      updated_at: now,
      embedder: this.embedder.id,
      vector: Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength),
    });
    return { id, tokens };
  }

  recall(input: RecallInput): { memories: RecalledMemory[]; used_tokens: number; candidates: number } {
    const cue = normalise(input.cue ?? '');
    if (!cue) throw new InvalidInputError('cue: must not be empty', { fields: ['cue'] });
    const budget = input.budget_tokens;
    if (!Number.isInteger(budget) || budget < 1 || budget > 1_000_000) throw new InvalidInputError('budget_tokens: 1–1,000,000', { fields: ['budget_tokens'] });
    const k = input.k ?? 20;
    if (!Number.isInteger(k) || k < 1 || k > 200) throw new InvalidInputError('k: 1–200', { fields: ['k'] });
    const scope = input.scope ?? 'repo';
    const wanted = input.tags?.length ? new Set(input.tags) : undefined;

    const lists = this.candidateLists(cue, scope);
    const ids = [...new Set(lists.flat())];
    const rows = ids.length ? (this.s.rows!.all(JSON.stringify(ids)) as Row[]) : [];
    const candidates = wanted ? rows.filter((r) => (JSON.parse(r.tags) as string[]).some((t) => wanted.has(t))) : rows;

    const cueVec = this.embedder.embedOne(cue);
    const byCosine = candidates
      .map((r) => ({ rowid: r.rowid, sim: cosine(cueVec, new Float32Array(r.vector.buffer, r.vector.byteOffset, r.vector.byteLength / 4)) }))
      .sort((a, b) => b.sim - a.sim)
      .map((x) => x.rowid);
    const score = new Map<number, number>();
    for (const list of [...lists, byCosine]) {
      list.forEach((rowid, rank) => score.set(rowid, (score.get(rowid) ?? 0) + 1 / (RRF_K + rank + 1)));
    }
    const now = this.clock.now();
    const ranked = candidates
      .map((r) => {
        const age = Math.max(0, now - r.updated_at);
        const boost = 1 + RECENCY_BOOST * Math.pow(0.5, age / RECENCY_HALF_LIFE_MS);
        return { r, score: (score.get(r.rowid) ?? 0) * boost };
      })
      .sort((a, b) => b.score - a.score)
      .slice(0, k);

    // Greedy by rank: a memory that does not fit is passed over, smaller ones may still fit.
    const memories: RecalledMemory[] = [];
    let used = 0;
    for (const { r, score: sc } of ranked) {
      if (used + r.tokens > budget) continue;
      used += r.tokens;
      memories.push({ id: r.id, text: r.text, score: Number(sc.toFixed(6)), tokens: r.tokens, created_at: iso(r.created_at), tags: JSON.parse(r.tags) });
    }
    return { memories, used_tokens: used, candidates: candidates.length };
  }

  /**
   * Ranked candidate lists. Matching every topical word first keeps the match set small
   * (ranking an OR of common words would score most of a large store); then words are
   * dropped, shortest first, until enough candidates are found. Words the index does not
   * know (partial words, typos) go to the trigram index instead.
   */
  private candidateLists(cue: string, scope: string): number[][] {
    const terms = cueTerms(cue);
    const known = terms.filter((t) => this.s.hasTerm!.get(fts([t], 'AND')) !== undefined);
    const unknown = terms.filter((t) => !known.includes(t) && t.length >= 3);
    const lists: number[][] = [];
    // One word-level ranking: matches of stricter queries rank above those of looser ones.
    const words: number[] = [];
    const seen = new Set<number>();
    const take = (q: string): void => {
      for (const { rowid } of this.s.bm25!.all({ q, scope, n: CANDIDATES }) as { rowid: number }[]) {
        if (!seen.has(rowid)) {
          seen.add(rowid);
          words.push(rowid);
        }
      }
    };
    for (let n = known.length; n >= 1 && seen.size < CANDIDATES / 2; n--) take(fts(known.slice(0, n), 'AND'));
    // Still scarce: the cue is a list of separate topics; each word on its own.
    for (const t of known.slice(1)) if (seen.size < CANDIDATES / 2) take(fts([t], 'AND'));
    if (words.length) lists.push(words);
    if (unknown.length || seen.size === 0) {
      const grams = (unknown.length ? unknown : terms).filter((t) => t.length >= 3);
      if (grams.length) lists.push((this.s.tri!.all({ q: fts(grams, 'OR'), scope, n: CANDIDATES }) as { rowid: number }[]).map((r) => r.rowid));
    }
    return lists;
  }

  forget(input: { id: string }): { forgotten: boolean } {
    return { forgotten: this.s.forget!.run(input.id).changes > 0 };
  }

  list(input: { scope?: string; limit?: number; cursor?: string } = {}): {
    memories: { id: string; scope: string; text: string; tags: string[]; tokens: number; source: string | null; run_id: string | null; created_at: string; updated_at: string }[];
    next_cursor: string | null;
  } {
    const limit = input.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new InvalidInputError('limit: 1–10,000', { fields: ['limit'] });
    let before = Number.MAX_SAFE_INTEGER;
    if (input.cursor !== undefined) {
      before = Number(input.cursor);
      if (!Number.isInteger(before) || before < 0) throw new InvalidInputError('cursor: not a valid cursor', { fields: ['cursor'] });
    }
    const rows = (input.scope ? this.s.list!.all(input.scope, before, limit + 1) : this.s.listAll!.all(before, limit + 1)) as Row[];
    const page = rows.slice(0, limit);
    return {
      memories: page.map((r) => ({
        id: r.id,
        scope: r.scope,
        text: r.text,
        tags: JSON.parse(r.tags),
        tokens: r.tokens,
        source: r.source,
        run_id: r.run_id,
        created_at: iso(r.created_at),
        updated_at: iso(r.updated_at),
      })),
      next_cursor: rows.length > limit ? String(page[page.length - 1]!.rowid) : null,
    };
  }

  stats(): { memories: number; tokens: number; scopes: { scope: string; count: number; tokens: number }[]; embedder: string } {
    const scopes = this.s.stats!.all() as { scope: string; count: number; tokens: number }[];
    return {
      memories: scopes.reduce((n, s) => n + s.count, 0),
      tokens: scopes.reduce((n, s) => n + s.tokens, 0),
      scopes,
      embedder: this.embedder.id,
    };
  }
}
