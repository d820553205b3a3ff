import pg from 'pg';
import type { RecordKind, WireRecord } from '../coord/wire.js';
import { StoreUnavailableError, type HubKey, type HubStore, type InsertResult, type ReadResult } from './store.js';
import { judge, keysOfBatch } from './ownership.js';

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
  -- Which origin owns each reservation and run (see ownership.ts).
  CREATE TABLE IF NOT EXISTS hub_owners (repo TEXT NOT NULL, key TEXT NOT NULL, origin TEXT NOT NULL, PRIMARY KEY (repo, key));
`;

/** Prune the replay cache once per this many new signatures. */
const PRUNE_EVERY = 1000;

/**
 * Errors that mean "the database is away", not "the request is wrong": connection failures,
 * a terminated backend (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect
 * now) and SQLSTATE class 08 (connection exception).
 */
function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string' && (/^08/.test(e.code) || /^57P0[123]$/.test(e.code) || /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NOTFOUND|AI_AGAIN)$/.test(e.code))) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i.test(e?.message ?? '');
}

/** Run a database call; a lost connection becomes StoreUnavailableError (503, retried). */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isConnectionError(err)) throw new StoreUnavailableError(`database unavailable: ${(err as Error).message}`);
    throw err;
  }
}

/** Bounds on every database call, so a stalled database fails a request instead of hanging it. */
const CONNECT_TIMEOUT_MS = 5000;
const STATEMENT_TIMEOUT_MS = 30_000;

/**
 * The hub on PostgreSQL (pooled). Writers to one repository serialise on its row in
 * hub_repos (SELECT … FOR UPDATE) until commit, so sequence numbers become visible in
 * order and a reader paging by cursor can never skip a record.
 */
export class PgHubStore implements HubStore {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;

  /** `schema` (for tests) puts every table in its own schema. */
  constructor(
    url: string,
    private readonly schema?: string,
    /** Names this hub's sessions in pg_stat_activity (fault tests terminate them by it). */
    applicationName?: string,
  ) {
    // The schema goes in the connection's startup options, so every pooled client has it
    // before its first query.
    this.pool = new pg.Pool({
      connectionString: url,
      max: 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      statement_timeout: STATEMENT_TIMEOUT_MS,
      query_timeout: STATEMENT_TIMEOUT_MS + 5000,
      application_name: applicationName ?? 'colony-hub',
      ...(schema ? { options: `-c search_path=${schema.replace(/[^A-Za-z0-9_]/g, '')}` } : {}),
    });
    // An idle pooled connection that dies (backend terminated, database restarted) is
    // reported here; without a listener Node would end the process. The pool drops the
    // client and opens a new one on demand.
    this.pool.on('error', (err) => this.onError(err));
    // A checked-out client is not covered by that listener, and a client destroyed after
    // a failure can still report its connection's end: every client keeps a listener for
    // life, so no late 'error' event is unhandled.
    this.pool.on('connect', (client) => client.on('error', (err) => this.onError(err)));
  }

  /** Where connection errors of idle clients are reported (the hub's logger, once wired). */
  onError: (err: Error) => void = () => undefined;

  async init(): Promise<void> {
    if (this.schema) await this.q(`CREATE SCHEMA IF NOT EXISTS "${this.schema.replace(/"/g, '')}"`);
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

  /** One pooled query; a lost connection becomes StoreUnavailableError. */
  private q(sql: string, params?: unknown[]): Promise<pg.QueryResult> {
    return guarded(() => this.pool.query(sql, params));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async addKey(repo: string, publicKey: string, keyId: string, name?: string): Promise<void> {
    await this.q(
      'INSERT INTO hub_keys (key_id, repo, public_key, name) VALUES ($1, $2, $3, $4) ON CONFLICT (key_id, repo) DO UPDATE SET name = excluded.name',
      [keyId, repo, publicKey, name ?? null],
    );
  }
  async removeKey(keyId: string): Promise<boolean> {
    return ((await this.q('DELETE FROM hub_keys WHERE key_id = $1', [keyId])).rowCount ?? 0) > 0;
  }
  async listKeys(repo?: string): Promise<HubKey[]> {
    const r = repo
      ? await this.q('SELECT * FROM hub_keys WHERE repo = $1 ORDER BY created_at', [repo])
      : await this.q('SELECT * FROM hub_keys ORDER BY repo, created_at');
    return r.rows.map((k) => ({ ...k, created_at: new Date(k.created_at).toISOString() }));
  }
  async keyFor(keyId: string, repo: string): Promise<HubKey | undefined> {
    const r = await this.q('SELECT * FROM hub_keys WHERE key_id = $1 AND repo = $2', [keyId, repo]);
    return r.rows[0] ? { ...r.rows[0], created_at: new Date(r.rows[0].created_at).toISOString() } : undefined;
  }
  async repoKnown(repo: string): Promise<boolean> {
    const r = await this.q('SELECT 1 FROM hub_repos WHERE repo = $1 UNION ALL SELECT 1 FROM hub_keys WHERE repo = $1 LIMIT 1', [repo]);
    return r.rowCount! > 0;
  }

  async insert(repo: string, batch: readonly WireRecord[]): Promise<InsertResult> {
    return guarded(() => this.insertOnce(repo, batch));
  }

  private async insertOnce(repo: string, batch: readonly WireRecord[]): Promise<InsertResult> {
    const c = await this.pool.connect();
    let broken = false;
    try {
      await c.query('BEGIN');
      await c.query('INSERT INTO hub_repos (repo, seq) VALUES ($1, 0) ON CONFLICT (repo) DO NOTHING', [repo]);
      const base = BigInt((await c.query('SELECT seq FROM hub_repos WHERE repo = $1 FOR UPDATE', [repo])).rows[0].seq);
      // Writers to the repository are serialised from here (the row lock), owners included.
      const keys = keysOfBatch(batch);
      const owners = new Map<string, string>();
      if (keys.length) {
        for (const row of (await c.query('SELECT key, origin FROM hub_owners WHERE repo = $1 AND key = ANY($2)', [repo, keys])).rows) owners.set(row.key, row.origin);
      }
      const { accepted: records, refused, newOwners } = judge(batch, owners);
      if (newOwners.length) {
        await c.query('INSERT INTO hub_owners (repo, key, origin) SELECT $1, k, o FROM unnest($2::text[], $3::text[]) AS t(k, o) ON CONFLICT DO NOTHING', [
          repo,
          newOwners.map((x) => x[0]),
          newOwners.map((x) => x[1]),
        ]);
      }
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
      return { inserted, skipped: batch.length - inserted, refused, cursor: next.toString() };
    } catch (err) {
      broken = isConnectionError(err);
      if (!broken) await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      // A client whose connection failed is destroyed, not returned to the pool.
      c.release(broken);
    }
  }

  private sincePrune = 0;
  async rememberSignature(sig: Buffer, ts: number, pruneBefore: number): Promise<boolean> {
    if (++this.sincePrune >= PRUNE_EVERY) {
      this.sincePrune = 0;
      await this.q('DELETE FROM hub_seen_signatures WHERE ts < $1', [pruneBefore]);
    }
    const r = await this.q('INSERT INTO hub_seen_signatures (sig, ts) VALUES ($1, $2) ON CONFLICT DO NOTHING', [sig, ts]);
    return (r.rowCount ?? 0) > 0;
  }

  async read(repo: string, since: bigint, kinds: readonly RecordKind[] | undefined, limit: number): Promise<ReadResult> {
    const r = kinds
      ? await this.q('SELECT seq, body FROM hub_records WHERE repo = $1 AND seq > $2 AND kind = ANY($3) ORDER BY seq LIMIT $4', [repo, since.toString(), kinds, limit + 1])
      : await this.q('SELECT seq, body FROM hub_records WHERE repo = $1 AND seq > $2 ORDER BY seq LIMIT $3', [repo, since.toString(), limit + 1]);
    const more = r.rows.length > limit;
    const page = more ? r.rows.slice(0, limit) : r.rows;
    return { bodies: page.map((x) => x.body as string), cursor: page.length ? String(page[page.length - 1].seq) : since.toString(), more };
  }
}
