import pg from 'pg';
import type { RecordKind, WireRecord } from '../coord/wire.js';
import type { HubKey, HubStore, InsertResult, ReadResult } from './store.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS hub_keys (key_id TEXT NOT NULL, repo TEXT NOT NULL, public_key TEXT NOT NULL, name TEXT, created_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (key_id, repo));
  CREATE INDEX IF NOT EXISTS hub_keys_repo ON hub_keys(repo);
  CREATE TABLE IF NOT EXISTS hub_repos (repo TEXT PRIMARY KEY, seq BIGINT NOT NULL);
  CREATE TABLE IF NOT EXISTS hub_records (
    repo TEXT NOT NULL, seq BIGINT NOT NULL, record_id TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (repo, seq), UNIQUE (repo, record_id)
  );
  -- Request signatures already accepted (replay protection), kept across restarts.
  CREATE TABLE IF NOT EXISTS hub_seen_signatures (sig BYTEA PRIMARY KEY, ts BIGINT NOT NULL);
  CREATE INDEX IF NOT EXISTS hub_seen_signatures_ts ON hub_seen_signatures(ts);
`;

/** Prune the replay cache once per this many new signatures. */
const PRUNE_EVERY = 1000;

/**
 * The hub on PostgreSQL (pooled). Writers to one repository serialise on its row in
 * hub_repos (SELECT … FOR UPDATE) until commit, so sequence numbers become visible in
 * order and a reader paging by cursor can never skip a record.
 */
export class PgHubStore implements HubStore {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;

  /** `schema` (for tests) puts every table in its own schema. */
  constructor(url: string, private readonly schema?: string) {
    // The schema goes in the connection's startup options, so every pooled client has it
    // before its first query.
    this.pool = new pg.Pool({
      connectionString: url,
      max: 10,
      ...(schema ? { options: `-c search_path=${schema.replace(/[^A-Za-z0-9_]/g, '')}` } : {}),
    });
  }

  async init(): Promise<void> {
    if (this.schema) await this.pool.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema.replace(/"/g, '')}"`);
    // Concurrent hub starts race on CREATE TABLE IF NOT EXISTS: serialise them.
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock(7420430)');
      await c.query(SCHEMA);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK');
      throw err;
    } finally {
      c.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async addKey(repo: string, publicKey: string, keyId: string, name?: string): Promise<void> {
    await this.pool.query(
      'INSERT INTO hub_keys (key_id, repo, public_key, name) VALUES ($1, $2, $3, $4) ON CONFLICT (key_id, repo) DO UPDATE SET name = excluded.name',
      [keyId, repo, publicKey, name ?? null],
    );
  }
  async removeKey(keyId: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM hub_keys WHERE key_id = $1', [keyId])).rowCount ?? 0) > 0;
  }
  async listKeys(repo?: string): Promise<HubKey[]> {
    const r = repo
      ? await this.pool.query('SELECT * FROM hub_keys WHERE repo = $1 ORDER BY created_at', [repo])
      : await this.pool.query('SELECT * FROM hub_keys ORDER BY repo, created_at');
    return r.rows.map((k) => ({ ...k, created_at: new Date(k.created_at).toISOString() }));
  }
  async keyFor(keyId: string, repo: string): Promise<HubKey | undefined> {
    const r = await this.pool.query('SELECT * FROM hub_keys WHERE key_id = $1 AND repo = $2', [keyId, repo]);
    return r.rows[0] ? { ...r.rows[0], created_at: new Date(r.rows[0].created_at).toISOString() } : undefined;
  }
  async repoKnown(repo: string): Promise<boolean> {
    const r = await this.pool.query('SELECT 1 FROM hub_repos WHERE repo = $1 UNION ALL SELECT 1 FROM hub_keys WHERE repo = $1 LIMIT 1', [repo]);
    return r.rowCount! > 0;
  }

  async insert(repo: string, records: readonly WireRecord[]): Promise<InsertResult> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('INSERT INTO hub_repos (repo, seq) VALUES ($1, 0) ON CONFLICT (repo) DO NOTHING', [repo]);
      const base = BigInt((await c.query('SELECT seq FROM hub_repos WHERE repo = $1 FOR UPDATE', [repo])).rows[0].seq);
      // One statement for the batch; duplicates (stored or within the batch) are skipped and
      // leave gaps in the numbering, which readers tolerate.
      const ins = await c.query(
        `INSERT INTO hub_records (repo, seq, record_id, kind, body)
         SELECT $1, $2::bigint + t.n, t.record_id, t.kind, t.body
         FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS t(record_id, kind, body, n)
         ON CONFLICT DO NOTHING`,
        [repo, base.toString(), records.map((r) => r.record_id), records.map((r) => r.kind), records.map((r) => JSON.stringify(r))],
      );
      const next = base + BigInt(records.length);
      await c.query('UPDATE hub_repos SET seq = $2 WHERE repo = $1', [repo, next.toString()]);
      await c.query('COMMIT');
      const inserted = ins.rowCount ?? 0;
      return { inserted, skipped: records.length - inserted, cursor: next.toString() };
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  private sincePrune = 0;
  async rememberSignature(sig: Buffer, ts: number, pruneBefore: number): Promise<boolean> {
    if (++this.sincePrune >= PRUNE_EVERY) {
      this.sincePrune = 0;
      await this.pool.query('DELETE FROM hub_seen_signatures WHERE ts < $1', [pruneBefore]);
    }
    const r = await this.pool.query('INSERT INTO hub_seen_signatures (sig, ts) VALUES ($1, $2) ON CONFLICT DO NOTHING', [sig, ts]);
    return (r.rowCount ?? 0) > 0;
  }

  async read(repo: string, since: bigint, kinds: readonly RecordKind[] | undefined, limit: number): Promise<ReadResult> {
    const r = kinds
      ? await this.pool.query('SELECT seq, body FROM hub_records WHERE repo = $1 AND seq > $2 AND kind = ANY($3) ORDER BY seq LIMIT $4', [repo, since.toString(), kinds, limit + 1])
      : await this.pool.query('SELECT seq, body FROM hub_records WHERE repo = $1 AND seq > $2 ORDER BY seq LIMIT $3', [repo, since.toString(), limit + 1]);
    const more = r.rows.length > limit;
    const page = more ? r.rows.slice(0, limit) : r.rows;
    return { bodies: page.map((x) => x.body as string), cursor: page.length ? String(page[page.length - 1].seq) : since.toString(), more };
  }
}
