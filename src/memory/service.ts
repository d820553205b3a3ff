import type { Statement } from 'better-sqlite3';
import { countTokens } from 'gpt-tokenizer';
import type { Db } from '../lib/sqlite.js';
import type { Clock } from '../lib/clock.js';
import { newId, sha256Hex } from '../lib/ids.js';
import { InvalidInputError } from '../lib/errors.js';
import { LexicalEmbedder } from './embedders/lexical.js';
import { RecallEngine, normalise, type RecallInput, type RecallResult } from './recall.js';

export type { RecallInput, RecallResult, RecalledMemory } from './recall.js';

export interface StoreInput {
  text: string;
  tags?: string[];
  scope?: string;
  source?: string;
  run_id?: string;
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

export const MAX_TEXT_BYTES = 64 * 1024;

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Shared long-term memory: store what was learned, recall what fits a token budget
 * (see recall.ts for the ranking). Writes happen here, on the daemon's connection.
 */
export class MemoryService {
  readonly embedder = new LexicalEmbedder();
  private readonly s: Record<string, Statement>;
  private readonly engine: RecallEngine;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.engine = new RecallEngine(db);
    const p = (sql: string): Statement => db.prepare(sql);
    this.s = {
      byHash: p('SELECT rowid, * FROM memories WHERE scope = ? AND text_hash = ?'),
      insert: p(`INSERT INTO memories (id, scope, text, text_hash, tags, source, run_id, tokens, created_at, updated_at, embedder, vector)
        VALUES (@id, @scope, @text, @text_hash, @tags, @source, @run_id, @tokens, @created_at, @updated_at, @embedder, @vector)`),
      refresh: p('UPDATE memories SET updated_at = ?, tags = ? WHERE rowid = ?'),
      forget: p('DELETE FROM memories WHERE id = ?'),
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

  /** Recall in this thread (tests, benches, CLI); the daemon runs the same engine in workers. */
  recall(input: RecallInput): RecallResult {
    return this.engine.recall(input, this.clock.now());
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
