import type { Statement } from 'better-sqlite3';
import type { Db } from '../lib/sqlite.js';
import { InvalidInputError } from '../lib/errors.js';
import { cosine, type Embedder } from './embedders/types.js';
import { vectorOf } from './store.js';
import { VectorIndex } from './vector-index.js';

export interface RecallInput {
  cue: string;
  budget_tokens: number;
  scope?: string;
  k?: number;
  tags?: string[];
}

export interface RecalledMemory {
  id: string;
  text: string;
  score: number;
  tokens: number;
  created_at: string;
  tags: string[];
}

export interface RecallResult {
  memories: RecalledMemory[];
  used_tokens: number;
  candidates: number;
}

interface Row {
  rowid: number;
  id: string;
  text: string;
  tags: string;
  tokens: number;
  created_at: number;
  updated_at: number;
  embedder: string;
  vector: Buffer;
}

/** Candidates taken from each ranked list before fusion. */
const CANDIDATES = 100;
/** Reciprocal rank fusion constant (the usual 60). */
const RRF_K = 60;
/** A fresh memory scores up to this much more, halving every 30 days: a mild tilt, not a sort key. */
const RECENCY_BOOST = 0.1;
const RECENCY_HALF_LIFE_MS = 30 * 86_400_000;

export const normalise = (text: string): string => text.trim().replace(/\s+/g, ' ');
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

/** Check a recall request where errors keep their type (the main thread), before any worker hop. */
export function validateRecall(input: RecallInput): void {
  if (!normalise(input.cue ?? '')) throw new InvalidInputError('cue: must not be empty', { fields: ['cue'] });
  const budget = input.budget_tokens;
  if (!Number.isInteger(budget) || budget < 1 || budget > 1_000_000) throw new InvalidInputError('budget_tokens: 1–1,000,000', { fields: ['budget_tokens'] });
  const k = input.k ?? 20;
  if (!Number.isInteger(k) || k < 1 || k > 200) throw new InvalidInputError('k: 1–200', { fields: ['k'] });
}

/**
 * Hybrid recall over one connection (read-only is enough): BM25 over words and trigrams
 * (SQLite FTS5) picks candidates, and so, for embedders that know meaning, does a nearest-
 * neighbour search over the scope's vectors; the embedder's cosine similarity ranks the
 * candidates too, reciprocal rank fusion with a mild recency boost orders them, and they
 * are packed greedily into the token budget. With the lexical embedder only full-text
 * candidates are scored, so a recall costs about the same over 1,000 or 100,000 memories.
 */
export class RecallEngine {
  private readonly s: Record<string, Statement>;
  private readonly index?: VectorIndex;

  constructor(
    db: Db,
    private readonly embedder: Embedder,
  ) {
    if (!embedder.lexical) this.index = new VectorIndex(db, embedder.id);
    const p = (sql: string): Statement => db.prepare(sql);
    this.s = {
      bm25: p(`SELECT m.rowid FROM memories_fts f JOIN memories m ON m.rowid = f.rowid
        WHERE memories_fts MATCH @q AND m.scope = @scope ORDER BY bm25(memories_fts) LIMIT @n`),
      hasTerm: p('SELECT 1 FROM memories_fts WHERE memories_fts MATCH ? LIMIT 1'),
      tri: p(`SELECT m.rowid FROM memories_tri f JOIN memories m ON m.rowid = f.rowid
        WHERE memories_tri MATCH @q AND m.scope = @scope ORDER BY bm25(memories_tri) LIMIT @n`),
      rows: p('SELECT rowid, id, text, tags, tokens, created_at, updated_at, embedder, vector FROM memories WHERE rowid IN (SELECT value FROM json_each(?))'),
    };
  }

  async recall(input: RecallInput, now: number): Promise<RecallResult> {
    validateRecall(input);
    const cue = normalise(input.cue);
    const budget = input.budget_tokens;
    const k = input.k ?? 20;
    const scope = input.scope ?? 'repo';
    const wanted = input.tags?.length ? new Set(input.tags) : undefined;

    const [cueVec] = await this.embedder.embed([cue]);
    const lists = this.candidateLists(cue, scope);
    const ids = new Set(lists.flat());
    if (this.index) {
      // Neighbours by meaning join the candidates; the similarity list below ranks them.
      this.index.refresh();
      for (const rowid of this.index.search(scope, cueVec!, CANDIDATES)) ids.add(rowid);
    }
    const rows = ids.size ? (this.s.rows!.all(JSON.stringify([...ids])) as Row[]) : [];
    const candidates = wanted ? rows.filter((r) => (JSON.parse(r.tags) as string[]).some((t) => wanted.has(t))) : rows;

    // Rows still carrying another embedder's vectors (a switch being re-embedded) sit this list out.
    const byCosine = candidates
      .filter((r) => r.embedder === this.embedder.id)
      .map((r) => ({ rowid: r.rowid, sim: cosine(cueVec!, vectorOf(r.vector)) }))
      .sort((a, b) => b.sim - a.sim)
      .map((x) => x.rowid);
    const score = new Map<number, number>();
    for (const list of [...lists, byCosine]) {
      list.forEach((rowid, rank) => score.set(rowid, (score.get(rowid) ?? 0) + 1 / (RRF_K + rank + 1)));
    }
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

}
