import type { Statement } from 'better-sqlite3';
import { openDatabase, type Db, type Migration } from '../lib/sqlite.js';
import type { RecordKind, WireRecord } from '../coord/wire.js';
import type { HubKey, HubStore, InsertResult, ReadResult } from './store.js';

const migrations: Migration[] = [
  {
    version: 1,
    name: 'hub',
    up: `
      CREATE TABLE hub_keys (key_id TEXT PRIMARY KEY, repo TEXT NOT NULL, public_key TEXT NOT NULL, name TEXT, created_at INTEGER NOT NULL);
      CREATE INDEX hub_keys_repo ON hub_keys(repo);
      CREATE TABLE hub_repos (repo TEXT PRIMARY KEY, seq INTEGER NOT NULL);
      CREATE TABLE hub_records (
        repo TEXT NOT NULL, seq INTEGER NOT NULL, record_id TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (repo, seq), UNIQUE (repo, record_id)
      ) WITHOUT ROWID;
    `,
  },
];

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
      addKey: p('INSERT INTO hub_keys (key_id, repo, public_key, name, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key_id) DO UPDATE SET repo = excluded.repo, name = excluded.name'),
      removeKey: p('DELETE FROM hub_keys WHERE key_id = ?'),
      keys: p('SELECT * FROM hub_keys ORDER BY repo, created_at'),
      keysOf: p('SELECT * FROM hub_keys WHERE repo = ? ORDER BY created_at'),
      key: p('SELECT * FROM hub_keys WHERE key_id = ?'),
      repoSeq: p('SELECT seq FROM hub_repos WHERE repo = ?'),
      repoHasKey: p('SELECT 1 FROM hub_keys WHERE repo = ? LIMIT 1'),
      upsertSeq: p('INSERT INTO hub_repos (repo, seq) VALUES (?, ?) ON CONFLICT (repo) DO UPDATE SET seq = excluded.seq'),
      insert: p('INSERT OR IGNORE INTO hub_records (repo, seq, record_id, kind, body) VALUES (?, ?, ?, ?, ?)'),
      read: p('SELECT seq, body FROM hub_records WHERE repo = ? AND seq > ? ORDER BY seq LIMIT ?'),
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
  async keyFor(keyId: string): Promise<HubKey | undefined> {
    const r = this.s.key!.get(keyId) as (Omit<HubKey, 'created_at'> & { created_at: number }) | undefined;
    return r ? { ...r, created_at: new Date(r.created_at).toISOString() } : undefined;
  }
  async repoKnown(repo: string): Promise<boolean> {
    return this.s.repoSeq!.get(repo) !== undefined || this.s.repoHasKey!.get(repo) !== undefined;
  }

  async insert(repo: string, records: readonly WireRecord[]): Promise<InsertResult> {
    return this.db.transaction(() => {
      let seq = (this.s.repoSeq!.get(repo) as { seq: number } | undefined)?.seq ?? 0;
      let inserted = 0;
      for (const r of records) {
        if (this.s.insert!.run(repo, seq + 1, r.record_id, r.kind, JSON.stringify(r)).changes > 0) {
          seq++;
          inserted++;
        }
      }
      this.s.upsertSeq!.run(repo, seq);
      return { inserted, skipped: records.length - inserted, cursor: String(seq) };
    }).immediate();
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
