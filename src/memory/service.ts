import { setImmediate } from 'node:timers/promises';
import { countTokens } from 'gpt-tokenizer';
import type { Db } from '../lib/sqlite.js';
import type { Clock } from '../lib/clock.js';
import { newId, sha256Hex } from '../lib/ids.js';
import { InvalidInputError } from '../lib/errors.js';
import { LexicalEmbedder } from './embedders/lexical.js';
import type { Embedder } from './embedders/types.js';
import { RecallEngine, normalise, type RankingOptions, type RecallInput, type RecallResult } from './recall.js';
import { MemoryStore, vectorBlob, type MemoryRow } from './store.js';
import { identifierParts } from './terms.js';

export type { RecallInput, RecallResult, RecalledMemory } from './recall.js';

export interface StoreInput {
  text: string;
  tags?: string[];
  /** Words to find it by that its text may not use (indexed with their own weight). */
  keywords?: string[];
  scope?: string;
  source?: string;
  run_id?: string;
  /** When it was first learned (ms since the epoch); an import keeps the exported one. Default: now. */
  created_at?: number;
}

export interface ListedMemory {
  id: string;
  scope: string;
  text: string;
  tags: string[];
  keywords: string[];
  tokens: number;
  source: string | null;
  run_id: string | null;
  created_at: string;
  updated_at: string;
}

/** What memory_stats answers. */
export interface MemoryStats {
  memories: number;
  tokens: number;
  scopes: { scope: string; count: number; tokens: number }[];
  embedder: string;
  embedding: EmbeddingState;
}

/** Progress of bringing every vector to the current embedder; see reembed.ts. */
export interface EmbeddingState {
  embedder: string;
  /** Memories whose vectors are the current embedder's. */
  current: number;
  /** Memories still carrying another embedder's vectors (re-embedding works through them). */
  pending: number;
  error?: string;
}

export const MAX_TEXT_BYTES = 64 * 1024;
/** Keyword words per memory. */
export const MAX_KEYWORDS = 100;

const splitKeywords = (s: string): string[] => (s ? s.split(' ') : []);
/** Texts per embedding call in a batch, with the event loop free between calls. */
const STORE_CHUNK = 200;

/** Thrown inside a store transaction to roll it back and embed again. */
const MISSING_VECTOR = new Error('a memory to refresh was forgotten meanwhile');

const iso = (ms: number): string => new Date(ms).toISOString();

interface Prepared {
  text: string;
  scope: string;
  tags: string[];
  keywords: string[];
  hash: string;
  input: StoreInput;
}

/**
 * Shared long-term memory: store what was learned, recall what fits a token budget
 * (see recall.ts for the ranking). Writes happen here, on the daemon's connection; texts
 * are embedded before the write transaction, so a slow embedder never holds the database.
 */
export class MemoryService {
  readonly rows: MemoryStore;
  private readonly engine: RecallEngine;
  /** Set by the re-embedder when it cannot make progress, shown by stats(). */
  embeddingError: string | undefined;

  constructor(
    db: Db,
    private readonly clock: Clock,
    readonly embedder: Embedder = new LexicalEmbedder(),
    ranking?: RankingOptions,
  ) {
    this.rows = new MemoryStore(db);
    this.engine = new RecallEngine(db, embedder, ranking);
  }

  async store(input: StoreInput): Promise<{ id: string; tokens: number }> {
    return (await this.storeMany([input]))[0]!;
  }

  /**
   * Many at once (what `memory import` uses), all or nothing: every input is checked, then
   * the new texts are embedded in chunks with the event loop free in between (a slow
   * embedder never holds the database), then all are written in one transaction, so a
   * crash or an error mid-request stores none of them.
   */
  async storeMany(inputs: StoreInput[]): Promise<{ id: string; tokens: number }[]> {
    const prepared = inputs.map((input, i) => prepare(input, inputs.length > 1 ? `memories[${i}].` : '', this.clock.now()));
    for (let attempt = 1; ; attempt++) {
      // Only texts not stored yet need vectors (the same text again refreshes the stored one).
      const fresh = new Map<string, string>();
      for (const p of prepared) if (!this.rows.byHash(p.scope, p.hash)) fresh.set(p.hash, p.text);
      const entries = [...fresh];
      const byHash = new Map<string, Float32Array>();
      for (let i = 0; i < entries.length; i += STORE_CHUNK) {
        if (i > 0) await setImmediate();
        const chunk = entries.slice(i, i + STORE_CHUNK);
        const vectors = await this.embedder.embed(chunk.map(([, text]) => text));
        chunk.forEach(([hash], j) => byHash.set(hash, vectors[j]!));
      }
      try {
        return this.rows.transaction(() => prepared.map((p) => this.write(p, byHash)));
      } catch (err) {
        // A memory we meant to refresh was forgotten while we embedded: embed again.
        if (err !== MISSING_VECTOR || attempt === 3) throw err;
      }
    }
  }

  private write(p: Prepared, vectors: Map<string, Float32Array>): { id: string; tokens: number } {
    const now = this.clock.now();
    const existing = this.rows.byHash(p.scope, p.hash);
    if (existing) {
      // The same lesson again: refresh it rather than keep two copies.
      const keywords = [...new Set([...splitKeywords(existing.keywords), ...p.keywords])].join(' ');
      this.rows.refresh(existing.rowid, now, JSON.stringify([...new Set([...(JSON.parse(existing.tags) as string[]), ...p.tags])].sort()), keywords);
      return { id: existing.id, tokens: existing.tokens };
    }
    const vector = vectors.get(p.hash);
    if (!vector) throw MISSING_VECTOR;
    const createdAt = p.input.created_at ?? now;
    const id = newId('mem', createdAt);
    const tokens = countTokens(p.text);
    this.rows.insert({
      id,
      scope: p.scope,
      text: p.text,
      text_hash: p.hash,
      tags: JSON.stringify(p.tags),
      keywords: p.keywords.join(' '),
      terms: identifierParts(p.text).join(' '),
      source: p.input.source ?? null,
      run_id: p.input.run_id ?? null,
      tokens,
      created_at: createdAt,
      updated_at: Math.max(now, createdAt),
      embedder: this.embedder.id,
      vector: vectorBlob(vector),
    });
    return { id, tokens };
  }

  /** Recall in this thread (tests, benches); the daemon runs the same engine in workers. */
  recall(input: RecallInput): Promise<RecallResult> {
    return this.engine.recall(input, this.clock.now());
  }

  forget(input: { id: string }): { forgotten: boolean } {
    return { forgotten: this.rows.forget(input.id) };
  }

  list(input: { scope?: string; limit?: number; cursor?: string } = {}): { memories: ListedMemory[]; next_cursor: string | null } {
    const limit = input.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new InvalidInputError('limit: 1–10,000', { fields: ['limit'] });
    let before = Number.MAX_SAFE_INTEGER;
    if (input.cursor !== undefined) {
      before = Number(input.cursor);
      if (!Number.isInteger(before) || before < 0) throw new InvalidInputError('cursor: not a valid cursor', { fields: ['cursor'] });
    }
    const rows = this.rows.list(input.scope, before, limit + 1);
    const page = rows.slice(0, limit);
    return { memories: page.map(listed), next_cursor: rows.length > limit ? String(page[page.length - 1]!.rowid) : null };
  }

  stats(): MemoryStats {
    const scopes = this.rows.scopeStats();
    const memories = scopes.reduce((n, s) => n + s.count, 0);
    const current = this.rows.embedderCounts().get(this.embedder.id) ?? 0;
    return {
      memories,
      tokens: scopes.reduce((n, s) => n + s.tokens, 0),
      scopes,
      embedder: this.embedder.id,
      embedding: { embedder: this.embedder.id, current, pending: memories - current, ...(this.embeddingError ? { error: this.embeddingError } : {}) },
    };
  }
}

function prepare(input: StoreInput, at: string, now: number): Prepared {
  const text = normalise(input.text ?? '');
  const created = input.created_at;
  if (created !== undefined && (!Number.isSafeInteger(created) || created < 0 || created > now + 86_400_000)) {
    throw new InvalidInputError(`${at}created_at: must be a time in the past`, { fields: [`${at}created_at`] });
  }
  if (!text) throw new InvalidInputError(`${at}text: must not be empty`, { fields: [`${at}text`] });
  if (Buffer.byteLength(text) > MAX_TEXT_BYTES) throw new InvalidInputError(`${at}text: longer than ${MAX_TEXT_BYTES} bytes`, { fields: [`${at}text`] });
  const keywords = [...new Set((input.keywords ?? []).flatMap((k) => normalise(k).split(' ')).filter(Boolean))];
  if (keywords.length > MAX_KEYWORDS) throw new InvalidInputError(`${at}keywords: at most ${MAX_KEYWORDS} words`, { fields: [`${at}keywords`] });
  return { text, scope: input.scope ?? 'repo', tags: [...new Set(input.tags ?? [])].sort(), keywords, hash: sha256Hex(text), input };
}

function listed(r: MemoryRow): ListedMemory {
  return {
    id: r.id,
    scope: r.scope,
    text: r.text,
    tags: JSON.parse(r.tags),
    keywords: splitKeywords(r.keywords),
    tokens: r.tokens,
    source: r.source,
    run_id: r.run_id,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
  };
}
