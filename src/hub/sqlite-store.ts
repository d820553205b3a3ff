import type { Statement } from 'better-sqlite3';
import { openDatabase, type Db, type Migration } from '../lib/sqlite.js';
import type { RecordKind, WireRecord } from '../coord/wire.js';
import type { HubKey, HubStore, InsertResult, ReadResult } from './store.js';
import { judge, keysOfBatch } from './ownership.js';

const migrations: Migration[] = [
  {
    version: 1,
    name: 'hub',
    up: `
      CREATE TABLE hub_keys (key_id TEXT NOT NULL, repo TEXT NOT NULL, public_key TEXT NOT NULL, name TEXT, created_at INTEGER NOT NULL, PRIMARY KEY (key_id, repo));
      CREATE INDEX hub_keys_repo ON hub_keys(repo);
      CREATE TABLE hub_repos (repo TEXT PRIMARY KEY, seq INTEGER NOT NULL);
      CREATE TABLE hub_records (
        repo TEXT NOT NULL, seq INTEGER NOT NULL, record_id TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (repo, seq), UNIQUE (repo, record_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'hub_seen_signatures',
    up: `
      -- Request signatures already accepted (replay protection), kept across restarts.
      CREATE TABLE hub_seen_signatures (sig BLOB PRIMARY KEY, ts INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX hub_seen_signatures_ts ON hub_seen_signatures(ts);
    `,
  },
  {
    version: 3,
    name: 'hub_owners',
    up: `
      -- Which origin owns each reservation and run (see ownership.ts).
      CREATE TABLE hub_owners (repo TEXT NOT NULL, key TEXT NOT NULL, origin TEXT NOT NULL, PRIMARY KEY (repo, key)) WITHOUT ROWID;
    `,
  },
];

/** Prune the replay cache once per this many new signatures. */
const PRUNE_EVERY = 1000;

const CHUNK = 100;

/** The hub on one SQLite file: a single writer, so commit order is sequence order by construction. */
export class SqliteHubStore implements HubStore {
  readonly kind = 'sqlite' as const;
  private db!: Db;
  private s!: Record<string, Statement>;

  constructor(private readonly path: string) {}

  async init(): Promise<void> {
    this.db = openDatabase(this.path, { migrations });
    const p = (sql: string): Statement => this.db.prepare(sql);
    this.s = {
      addKey: p('INSERT INTO hub_keys (key_id, repo, public_key, name, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key_id, repo) DO UPDATE SET name = excluded.name'),
      removeKey: p('DELETE FROM hub_keys WHERE key_id = ?'),
      keys: p('SELECT * FROM hub_keys ORDER BY repo, created_at'),
      keysOf: p('SELECT * FROM hub_keys WHERE repo = ? ORDER BY created_at'),
      key: p('SELECT * FROM hub_keys WHERE key_id = ? AND repo = ?'),
      repoSeq: p('SELECT seq FROM hub_repos WHERE repo = ?'),
      repoHasKey: p('SELECT 1 FROM hub_keys WHERE repo = ? LIMIT 1'),
      upsertSeq: p('INSERT INTO hub_repos (repo, seq) VALUES (?, ?) ON CONFLICT (repo) DO UPDATE SET seq = excluded.seq'),
      read: p('SELECT seq, body FROM hub_records WHERE repo = ? AND seq > ? ORDER BY seq LIMIT ?'),
      owner: p('SELECT origin FROM hub_owners WHERE repo = ? AND key = ?'),
      addOwner: p('INSERT OR IGNORE INTO hub_owners (repo, key, origin) VALUES (?, ?, ?)'),
      rememberSig: p('INSERT OR IGNORE INTO hub_seen_signatures (sig, ts) VALUES (?, ?)'),
      pruneSigs: p('DELETE FROM hub_seen_signatures WHERE ts < ?'),
    };
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async addKey(repo: string, publicKey: string, keyId: string, name?: string): Promise<void> {
    this.s.addKey!.run(keyId, repo, publicKey, name ?? null, Date.now());
  }
  async removeKey(keyId: string): Promise<boolean> {
    return this.s.removeKey!.run(keyId).changes > 0;
  }
  async listKeys(repo?: string): Promise<HubKey[]> {
    const rows = (repo ? this.s.keysOf!.all(repo) : this.s.keys!.all()) as (Omit<HubKey, 'created_at'> & { created_at: number })[];
    return rows.map((r) => ({ ...r, created_at: new Date(r.created_at).toISOString() }));
  }
  async keyFor(keyId: string, repo: string): Promise<HubKey | undefined> {
    const r = this.s.key!.get(keyId, repo) as (Omit<HubKey, 'created_at'> & { created_at: number }) | undefined;
    return r ? { ...r, created_at: new Date(r.created_at).toISOString() } : undefined;
  }
  async repoKnown(repo: string): Promise<boolean> {
    return this.s.repoSeq!.get(repo) !== undefined || this.s.repoHasKey!.get(repo) !== undefined;
  }

  /** Multi-row INSERT statements by row count: one native call per chunk instead of per record. */
  private readonly chunkStmts = new Map<number, Statement>();
  private chunkInsert(rows: number): Statement {
    let st = this.chunkStmts.get(rows);
    if (!st) {
      st = this.db.prepare(`INSERT OR IGNORE INTO hub_records (repo, seq, record_id, kind, body) VALUES ${Array(rows).fill('(?, ?, ?, ?, ?)').join(', ')}`);
      this.chunkStmts.set(rows, st);
    }
    return st;
  }

  async insert(repo: string, batch: readonly WireRecord[]): Promise<InsertResult> {
    return this.db.transaction(() => {
      const owners = new Map<string, string>();
      for (const key of keysOfBatch(batch)) {
        const o = this.s.owner!.get(repo, key) as { origin: string } | undefined;
        if (o) owners.set(key, o.origin);
      }
      const { accepted: records, refused, newOwners } = judge(batch, owners);
      for (const [key, origin] of newOwners) this.s.addOwner!.run(repo, key, origin);
      const base = (this.s.repoSeq!.get(repo) as { seq: number } | undefined)?.seq ?? 0;
      let inserted = 0;
      // Every record gets base + its index; duplicates leave gaps, which readers tolerate.
      for (let i = 0; i < records.length; i += CHUNK) {
        const chunk = records.slice(i, i + CHUNK);
        const args: unknown[] = [];
        chunk.forEach((r, k) => args.push(repo, base + i + k + 1, r.record_id, r.kind, JSON.stringify(r)));
        inserted += this.chunkInsert(chunk.length).run(...args).changes;
      }
      const seq = base + records.length;
      this.s.upsertSeq!.run(repo, seq);
      return { inserted, skipped: batch.length - inserted, refused, cursor: String(seq) };
    }).immediate();
  }

  private sincePrune = 0;
  async rememberSignature(sig: Buffer, ts: number, pruneBefore: number): Promise<boolean> {
    if (++this.sincePrune >= PRUNE_EVERY) {
      this.sincePrune = 0;
      this.s.pruneSigs!.run(pruneBefore);
    }
    return this.s.rememberSig!.run(sig, ts).changes > 0;
  }

  async read(repo: string, since: bigint, kinds: readonly RecordKind[] | undefined, limit: number): Promise<ReadResult> {
    const rows = (
      kinds
        ? this.db
            .prepare(`SELECT seq, body FROM hub_records WHERE repo = ? AND seq > ? AND kind IN (${kinds.map(() => '?').join(',')}) ORDER BY seq LIMIT ?`)
            .all(repo, since, ...kinds, limit + 1)
        : this.s.read!.all(repo, since, limit + 1)
    ) as { seq: number; body: string }[];
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    return { bodies: page.map((r) => r.body), cursor: String(page.length ? page[page.length - 1]!.seq : since), more };
  }
}
