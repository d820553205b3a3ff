import type { Statement } from 'better-sqlite3';
import type { Db } from '../lib/sqlite.js';
import { InvalidInputError } from '../lib/errors.js';
import { cosine, type Embedder } from './embedders/types.js';
import { vectorOf } from './store.js';
import { VectorIndex } from './vector-index.js';
import { DocFrequencies } from './doc-frequencies.js';
import { Cooccurrence } from './cooccurrence.js';
import { synonymsOf } from './synonyms.js';
import { queryWords, stem, stemsOf, STOPWORDS } from './terms.js';

export interface RecallInput {
  cue: string;
  budget_tokens: number;
  scope?: string;
  k?: number;
  tags?: string[];
  /** Other phrasings or keywords of the same need, ranked beside the cue. */
  alternatives?: string[];
  /** Say why each memory matched. */
  explain?: boolean;
}

/** Why a memory was recalled. */
export interface RecallExplanation {
  /** Cue (and alternatives') words found in the memory, as written in the cue. */
  matched: string[];
  /** Related words found in it: synonyms and feedback terms the cue did not use. */
  expanded: string[];
  /** Cosine similarity of the cue's and the memory's vectors under the embedder. */
  similarity: number;
  /** Its rank (1 = best) in each candidate list it was in. */
  ranks: Record<string, number>;
}

export interface RecalledMemory {
  id: string;
  text: string;
  score: number;
  tokens: number;
  created_at: string;
  tags: string[];
  explain?: RecallExplanation;
}

export interface RecallResult {
  memories: RecalledMemory[];
  used_tokens: number;
  candidates: number;
}

/**
 * The ranking's constants. The defaults were tuned on the development split of the quality
 * bench (bench/memory-quality.ts); a weight of 0 turns that candidate list off (the bench's
 * ablation does exactly that).
 */
export interface RankingOptions {
  /** Candidates taken from each ranked list. */
  candidates: number;
  /** Reciprocal rank fusion constant: larger flattens the advantage of the top ranks. */
  rrfK: number;
  /** RRF weight of each list. */
  weights: {
    /** BM25, OR of the cue's words and their synonyms: the one word query of a recall. */
    words: number;
    /** BM25, OR of terms taken from the first pass's best memories (pseudo-relevance feedback). */
    feedback: number;
    /** BM25 over character trigrams, for identifiers, fragments and typos. */
    trigrams: number;
    /** The embedder's cosine similarity (embedders that know meaning). */
    similarity: number;
    /** The same for the lexical embedder, whose vectors only restate the words. */
    lexicalSimilarity: number;
    /** BM25, the cue's words and their nearest words under a word-vector embedder (GloVe). */
    neighbours: number;
    /** BM25, the cue's words and the words that co-occur with them in the memories (see cooccurrence.ts). */
    cooccurrence: number;
    /** BM25 of each of the caller's alternatives. */
    alternatives: number;
  };
  /** BM25 weight of each indexed field. */
  fields: { text: number; keywords: number; tags: number; terms: number };
  /** Synonyms of the cue's words (built-in software thesaurus) join its word query. */
  synonyms: boolean;
  /** There, each cue word counts this many times as much as a synonym (1 = at par). */
  cueOverSynonyms: number;
  /** Word-vector neighbours taken per cue word. */
  neighboursPerWord: number;
  /** Co-occurring words taken per cue word. */
  cooccurringPerWord: number;
  /** Split camelCase identifiers in the cue. */
  splitIdentifiers: boolean;
  /** Feedback: memories read, terms kept. */
  feedbackDocs: number;
  feedbackTerms: number;
  /** Words in more than this share of the memories stay out of BM25 (see `words()` in recall.ts). */
  commonShare: number;
  /** A fresh memory scores up to this much more, halving every 30 days: a mild tilt, not a sort key. */
  recencyBoost: number;
}

export const DEFAULT_RANKING: RankingOptions = {
  candidates: 100,
  rrfK: 60,
  weights: { words: 1, feedback: 0, trigrams: 0.3, similarity: 0.5, lexicalSimilarity: 0, neighbours: 0, cooccurrence: 0, alternatives: 1 },
  fields: { text: 1, keywords: 2, tags: 1.5, terms: 1 },
  synonyms: true,
  cueOverSynonyms: 1,
  neighboursPerWord: 3,
  cooccurringPerWord: 3,
  splitIdentifiers: true,
  feedbackDocs: 3,
  feedbackTerms: 8,
  commonShare: 0.05,
  recencyBoost: 0.1,
};

/** Options with some constants replaced (nested objects merged). */
export function rankingWith(over: DeepPartial<RankingOptions> = {}): RankingOptions {
  return { ...DEFAULT_RANKING, ...over, weights: { ...DEFAULT_RANKING.weights, ...over.weights }, fields: { ...DEFAULT_RANKING.fields, ...over.fields } } as RankingOptions;
}
type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? Partial<T[K]> : T[K] };

const RECENCY_HALF_LIFE_MS = 30 * 86_400_000;
/** Words per query: a pasted paragraph as a cue must not become a thousand-term query. */
const MAX_TERMS = 24;
/** Bytes of the database file a recall connection maps (address space, not memory: pages load as read). */
const MMAP_BYTES = 1 << 30;
/** Matches of one word query that are scored, newest first (see the constructor). */
const MAX_SCANNED = 5000;
export const MAX_ALTERNATIVES = 8;

interface Row {
  rowid: number;
  id: string;
  text: string;
  tags: string;
  keywords: string;
  tokens: number;
  created_at: number;
  updated_at: number;
  embedder: string;
  /** Null when the recall needs no similarity. */
  vector: Buffer | null;
}

export const normalise = (text: string): string => text.trim().replace(/\s+/g, ' ');
const iso = (ms: number): string => new Date(ms).toISOString();

/** Each word `times` times: FTS5's bm25() sums over the query's phrases, so a repeated word weighs more. */
const repeat = (words: string[], times: number): string[] => words.flatMap((w) => Array<string>(times).fill(w));

/** An FTS5 expression of quoted terms joined by OR (never operators from input). */
const anyOf = (terms: string[]): string => terms.map((w) => `"${w.replace(/"/g, '')}"`).join(' OR ');

/** Check a recall request where errors keep their type (the main thread), before any worker hop. */
export function validateRecall(input: RecallInput): void {
  if (!normalise(input.cue ?? '')) throw new InvalidInputError('cue: must not be empty', { fields: ['cue'] });
  const budget = input.budget_tokens;
  if (!Number.isInteger(budget) || budget < 1 || budget > 1_000_000) throw new InvalidInputError('budget_tokens: 1–1,000,000', { fields: ['budget_tokens'] });
  const k = input.k ?? 20;
  if (!Number.isInteger(k) || k < 1 || k > 200) throw new InvalidInputError('k: 1–200', { fields: ['k'] });
  const alts = input.alternatives ?? [];
  if (!Array.isArray(alts) || alts.length > MAX_ALTERNATIVES || alts.some((a) => typeof a !== 'string' || a.length > 1000)) {
    throw new InvalidInputError(`alternatives: at most ${MAX_ALTERNATIVES} strings of at most 1,000 characters`, { fields: ['alternatives'] });
  }
}

/** Where a recall's queries look: its scope (checked per match only when other scopes exist), the store's size, how many candidates per list. */
interface Where {
  scope: string;
  total: number;
  n: number;
  scoped: boolean;
  /** Query results already read in this recall. */
  memo: Map<string, number[]>;
}

/** One ranked candidate list and the name it is explained by. */
interface List {
  name: keyof RankingOptions['weights'];
  rowids: number[];
  /** Instead of the weight of its name. */
  weight?: number;
}

/**
 * Hybrid recall over one connection (read-only is enough). Candidates come from ranked
 * lists, each a disjunctive BM25 query (FTS5, fields weighted: text, agent keywords, tags,
 * identifier parts): the cue's words with their synonyms from a built-in software
 * thesaurus (one query); each alternative phrasing the caller gave; character trigrams for
 * fragments; and, measured but off by default, words fed back from the best first-pass
 * memories, co-occurring words and word-vector neighbours. Embedders that know meaning add
 * the nearest neighbours of the cue's vector. Every candidate is ranked in each list and by
 * the embedder's cosine similarity, weighted reciprocal rank fusion with a mild recency
 * boost orders them, and they are packed greedily into the token budget. No list requires
 * every word, so a paraphrase that shares one rare word with a memory still finds it.
 */
export class RecallEngine {
  private readonly s: Record<string, Statement>;
  private readonly index?: VectorIndex;
  private readonly df: DocFrequencies;
  private readonly cooccurrence: Cooccurrence;
  readonly ranking: RankingOptions;

  constructor(
    db: Db,
    private readonly embedder: Embedder,
    ranking: RankingOptions = DEFAULT_RANKING,
  ) {
    this.ranking = ranking;
    // A recall reads a few hundred scattered pages (posting lists, candidate rows) of a file
    // far larger than SQLite's 2 MB page cache; mapped, they come from the OS page cache
    // without a system call each (17 % less CPU per recall over 100,000 memories, measured).
    db.pragma(`mmap_size = ${MMAP_BYTES}`);
    if (!embedder.lexical) this.index = new VectorIndex(db, embedder.id);
    this.df = new DocFrequencies(db);
    this.cooccurrence = new Cooccurrence(db, this.df);
    const f = ranking.fields;
    const p = (sql: string): Statement => db.prepare(sql);
    // Matches are read newest first and at most MAX_SCANNED of them are scored, so a query
    // costs the same at a million memories as at ten thousand. When one scope holds every
    // memory (the usual case) the scope needs no check; otherwise each match's scope is read
    // (a lookup per match, which is why the common case skips it).
    const scopeCheck = (table: string, scoped: boolean): string => (scoped ? `AND (SELECT scope FROM memories m WHERE m.rowid = ${table}.rowid) = @scope` : '');
    const capped = (table: string, rank: string, scoped: boolean): Statement =>
      p(`SELECT rowid FROM (SELECT rowid, ${rank} AS rank FROM ${table} WHERE ${table} MATCH @q ${scopeCheck(table, scoped)}
        ORDER BY rowid DESC LIMIT ${MAX_SCANNED}) ORDER BY rank LIMIT @n`);
    // Unranked, newest first: bm25() would count every document of each common word first.
    const newest = (scoped: boolean): Statement =>
      p(`SELECT rowid FROM memories_fts WHERE memories_fts MATCH @q ${scopeCheck('memories_fts', scoped)} ORDER BY rowid DESC LIMIT @n`);
    const words = `bm25(memories_fts, ${f.text}, ${f.keywords}, ${f.tags}, ${f.terms})`;
    this.s = {
      bm25: capped('memories_fts', words, false),
      bm25Scoped: capped('memories_fts', words, true),
      newest: newest(false),
      newestScoped: newest(true),
      tri: capped('memories_tri', 'bm25(memories_tri)', false),
      triScoped: capped('memories_tri', 'bm25(memories_tri)', true),
      scopeCount: p('SELECT count FROM memory_scope_counts WHERE scope = ?'),
      rows: p('SELECT rowid, id, text, tags, keywords, tokens, created_at, updated_at, embedder, vector FROM memories WHERE rowid IN (SELECT value FROM json_each(?))'),
      // Without vectors (a kilobyte each at 256 dimensions) when nothing will compare them.
      rowsBare: p('SELECT rowid, id, text, tags, keywords, tokens, created_at, updated_at, embedder, NULL AS vector FROM memories WHERE rowid IN (SELECT value FROM json_each(?))'),
      texts: p('SELECT text, keywords FROM memories WHERE rowid IN (SELECT value FROM json_each(?))'),
    };
  }

  async recall(input: RecallInput, now: number): Promise<RecallResult> {
    validateRecall(input);
    const opt = this.ranking;
    const w = opt.weights;
    const cue = normalise(input.cue);
    const alternatives = (input.alternatives ?? []).map(normalise).filter(Boolean);
    const budget = input.budget_tokens;
    const k = input.k ?? 20;
    const scope = input.scope ?? 'repo';
    const wanted = input.tags?.length ? new Set(input.tags) : undefined;
    const n = opt.candidates;
    const total = this.df.sync();
    const inScope = (this.s.scopeCount!.get(scope) as { count: number } | undefined)?.count ?? 0;
    const at: Where = { scope, total, n, scoped: inScope !== total, memo: new Map() };

    const [cueVec] = await this.embedder.embed([cue]);
    const terms = queryWords(cue, opt.splitIdentifiers).slice(0, MAX_TERMS);
    const cueStems = new Set(terms.map(stem));
    const lists: List[] = [];
    // Synonyms at par with the cue's words did best on the development split: a memory that
    // says "release" answers "ship" as well as one that says "ship" does.
    const synonyms = opt.synonyms ? this.fresh(terms.flatMap(synonymsOf), cueStems) : [];
    if (w.words > 0) {
      const words = this.words(repeat(terms, opt.cueOverSynonyms), synonyms, at);
      if (words.length) lists.push({ name: 'words', rowids: words });
    }

    const neighbours = w.neighbours > 0 && this.embedder.neighbours ? this.fresh(terms.flatMap((t) => this.embedder.neighbours!(t, opt.neighboursPerWord)), cueStems) : [];
    if (neighbours.length) lists.push({ name: 'neighbours', rowids: this.words(terms, neighbours, at) });
    const cooccurring = w.cooccurrence > 0 ? this.cooccurrence.expand(terms, cueStems, total, opt.cooccurringPerWord, Math.max(200, total * opt.commonShare)) : [];
    if (cooccurring.length) lists.push({ name: 'cooccurrence', rowids: this.words(terms, cooccurring, at) });

    if (w.trigrams > 0) {
      // Fragments and identifiers: words the word index does not know, and names with digits or inner capitals.
      const grams = [...new Set(cue.match(/[\p{L}\p{N}_]+/gu) ?? [])].filter((t) => t.length >= 3 && !STOPWORDS.has(t.toLowerCase()) && (/\d|_|\p{Ll}\p{Lu}/u.test(t) || this.df.of(t.toLowerCase()) === 0));
      if (grams.length) lists.push({ name: 'trigrams', rowids: ((at.scoped ? this.s.triScoped! : this.s.tri!).all({ q: anyOf(grams), scope, n }) as { rowid: number }[]).map((r) => r.rowid) });
    }
    if (w.alternatives > 0) {
      for (const alt of alternatives) {
        const altTerms = queryWords(alt, opt.splitIdentifiers).slice(0, MAX_TERMS);
        if (altTerms.length) lists.push({ name: 'alternatives', rowids: this.words(altTerms, [], at) });
      }
    }
    let feedback: string[] = [];
    if (w.feedback > 0 && lists.length) {
      // Pseudo-relevance feedback: words the first pass's best memories share, rare ones first.
      feedback = this.feedbackTerms(this.fuse(lists).slice(0, opt.feedbackDocs), cueStems, total);
      if (feedback.length) lists.push({ name: 'feedback', rowids: this.words([], feedback, at) });
    }

    const ids = new Set(lists.flatMap((l) => l.rowids));
    if (this.index && w.similarity > 0) {
      // Neighbours by meaning join the candidates; the similarity list below ranks them.
      this.index.refresh();
      for (const rowid of this.index.search(scope, cueVec!, n)) ids.add(rowid);
    }
    const simWeight = this.embedder.lexical ? w.lexicalSimilarity : w.similarity;
    const compare = simWeight > 0 || input.explain === true;
    const rows = ids.size ? ((compare ? this.s.rows! : this.s.rowsBare!).all(JSON.stringify([...ids])) as Row[]) : [];
    const candidates = wanted ? rows.filter((r) => (JSON.parse(r.tags) as string[]).some((t) => wanted.has(t))) : rows;

    // Rows still carrying another embedder's vectors (a switch being re-embedded) sit this list out.
    const sims = new Map<number, number>();
    if (compare) for (const r of candidates) if (r.embedder === this.embedder.id) sims.set(r.rowid, cosine(cueVec!, vectorOf(r.vector!)));
    if (simWeight > 0) lists.push({ name: 'similarity', weight: simWeight, rowids: [...sims].sort((a, b) => b[1] - a[1]).map(([rowid]) => rowid) });

    const score = this.fuse(lists, true);
    const ranked = candidates
      .map((r) => {
        const age = Math.max(0, now - r.updated_at);
        const boost = 1 + opt.recencyBoost * Math.pow(0.5, age / RECENCY_HALF_LIFE_MS);
        return { r, score: (score.get(r.rowid) ?? 0) * boost };
      })
      .sort((a, b) => b.score - a.score)
      .slice(0, k);

    const expansion = new Map([...synonyms, ...neighbours, ...cooccurring, ...feedback].map((word) => [stem(word), word]));
    const asked = [cue, ...alternatives].flatMap((t) => queryWords(t, opt.splitIdentifiers));
    // Greedy by rank: a memory that does not fit is passed over, smaller ones may still fit.
    const memories: RecalledMemory[] = [];
    let used = 0;
    for (const { r, score: sc } of ranked) {
      if (used + r.tokens > budget) continue;
      used += r.tokens;
      const m: RecalledMemory = { id: r.id, text: r.text, score: Number(sc.toFixed(6)), tokens: r.tokens, created_at: iso(r.created_at), tags: JSON.parse(r.tags) };
      if (input.explain) m.explain = explain(r, asked, expansion, sims.get(r.rowid) ?? 0, lists);
      memories.push(m);
    }
    return { memories, used_tokens: used, candidates: candidates.length };
  }

  /** Weighted reciprocal rank fusion: rowid → score (with `all`), or the rowids best first. */
  private fuse(lists: List[]): number[];
  private fuse(lists: List[], all: true): Map<number, number>;
  private fuse(lists: List[], all?: true): number[] | Map<number, number> {
    const score = new Map<number, number>();
    for (const { name, rowids, weight: own } of lists) {
      const weight = own ?? this.ranking.weights[name];
      rowids.forEach((rowid, rank) => score.set(rowid, (score.get(rowid) ?? 0) + weight / (this.ranking.rrfK + rank + 1)));
    }
    return all ? score : [...score].sort((a, b) => b[1] - a[1]).map(([rowid]) => rowid);
  }

  /** Words (deduplicated) whose stems are not among `known`. */
  private fresh(words: string[], known: Set<string>): string[] {
    const out = new Map<string, string>();
    for (const word of words) {
      const s = stem(word);
      if (!known.has(s) && !STOPWORDS.has(word) && !out.has(s)) out.set(s, word);
    }
    return [...out.values()].slice(0, MAX_TERMS);
  }

  /**
   * One disjunctive BM25 query of the cue's words and expansion words (repeated words weigh
   * more: bm25() sums over the query's phrases), best first. Words in more than
   * `commonShare` of the memories (when the store is large enough for that to mean
   * something) stay out of it: bm25() reads every document of each word it scores, which at
   * 100,000 memories made one common word cost milliseconds, and an OR of them would match
   * much of the store while adding little. The cue's common words instead add, after the
   * ranked matches and only when those are fewer than wanted, the newest memories holding
   * all of them (two or more; a single one only when nothing rarer matched), and when none
   * holds them all and nothing else matched, the newest holding any. Common expansion
   * words, and words no memory holds, are left out.
   */
  private words(cue: string[], expansion: string[], at: Where): number[] {
    const limit = Math.max(200, at.total * this.ranking.commonShare);
    const rare = [...cue, ...expansion].filter((t) => this.df.of(t) > 0 && this.df.of(t) <= limit);
    const common = [...new Set(cue.filter((t) => this.df.of(t) > limit))];
    const found = rare.length ? this.match(at.scoped ? 'bm25Scoped' : 'bm25', anyOf(rare), at) : [];
    if (found.length >= at.n || !common.length || (common.length === 1 && found.length)) return found;
    const all = common.length >= 2 ? common.map((w) => `"${w.replace(/"/g, '')}"`).join(' AND ') : anyOf(common);
    const seen = new Set(found);
    for (const rowid of this.match(at.scoped ? 'newestScoped' : 'newest', all, at)) {
      if (found.length >= at.n) break;
      if (!seen.has(rowid)) found.push(rowid);
    }
    if (!found.length && common.length >= 2) return this.match(at.scoped ? 'newestScoped' : 'newest', anyOf(common), at);
    return found;
  }

  /** Rowids a query statement gives; the same query twice in one recall (lists share words) is run once. */
  private match(statement: string, q: string, at: Where): number[] {
    const key = `${statement}\u0000${q}`;
    let rowids = at.memo.get(key);
    if (!rowids) {
      rowids = (this.s[statement]!.all({ q, scope: at.scope, n: at.n }) as { rowid: number }[]).map((r) => r.rowid);
      at.memo.set(key, rowids);
    }
    return [...rowids];
  }

  /** Up to `feedbackTerms` words shared by at least two of the given memories, by rarity. */
  private feedbackTerms(rowids: number[], known: Set<string>, total: number): string[] {
    if (rowids.length < 2) return [];
    const counts = new Map<string, { word: string; docs: number }>();
    for (const { text, keywords } of this.s.texts!.all(JSON.stringify(rowids)) as { text: string; keywords: string }[]) {
      const seen = new Set<string>();
      for (const word of queryWords(`${text} ${keywords}`)) {
        const s = stem(word);
        if (known.has(s) || seen.has(s)) continue;
        seen.add(s);
        const c = counts.get(s) ?? { word, docs: 0 };
        c.docs++;
        counts.set(s, c);
      }
    }
    return [...counts.values()]
      .filter((c) => c.docs >= 2)
      .map((c) => ({ word: c.word, weight: c.docs * Math.log(1 + total / (1 + this.df.of(c.word))) }))
      .sort((a, b) => b.weight - a.weight)
      .slice(0, this.ranking.feedbackTerms)
      .map((c) => c.word);
  }
}

function explain(r: Row, asked: string[], expansion: Map<string, string>, similarity: number, lists: List[]): RecallExplanation {
  const has = stemsOf(`${r.text} ${r.keywords} ${(JSON.parse(r.tags) as string[]).join(' ')}`);
  const matched = [...new Set(asked.filter((w) => has.has(stem(w))))];
  const matchedStems = new Set(matched.map(stem));
  const expanded = [...has].filter((s) => expansion.has(s) && !matchedStems.has(s)).map((s) => expansion.get(s)!);
  const ranks: Record<string, number> = {};
  for (const l of lists) {
    const at = l.rowids.indexOf(r.rowid);
    if (at >= 0 && (ranks[l.name] === undefined || at + 1 < ranks[l.name]!)) ranks[l.name] = at + 1;
  }
  return { matched, expanded, similarity: Number(similarity.toFixed(4)), ranks };
}
