// The hub bench's baselines: the same rows written to and paged out of the hub's own table
// by the most direct means, in the bench process, so the hub's figures can be budgeted as
// ratios to them in the same run (DESIGN.md) instead of as absolute rates that say more
// about the machine than about the code.
import pg from 'pg';
import type { Statement } from 'better-sqlite3';
import { openDatabase, type Db } from '../src/lib/sqlite.js';

/** One row of hub_records as the hub stores it. */
export interface HubRow {
  seq: number | string;
  record_id: string;
  kind: string;
  body: string;
}

/** The hub pushes in batches of this many records; the raw writes use the same size. */
export const RAW_BATCH = 500;

export interface RawTable {
  /** The rows stored for a repository, in sequence order (untimed setup). */
  rows(repo: string): Promise<HubRow[]>;
  /** Insert rows under `repo`: one prepared multi-row INSERT per batch, each batch its own transaction. */
  write(repo: string, rows: readonly HubRow[]): Promise<void>;
  /** Page through a repository with the store's own read query; returns the rows read. */
  readAll(repo: string, pageSize: number): Promise<number>;
  close(): Promise<void>;
}

/** The store's read, verbatim in shape: one row past the page tells whether there is more. */
const READ_SQLITE = 'SELECT seq, body FROM hub_records WHERE repo = ? AND seq > ? ORDER BY seq LIMIT ?';
const READ_PG = 'SELECT seq, body FROM hub_records WHERE repo = $1 AND seq > $2 ORDER BY seq LIMIT $3';

function valuesList(rows: number, pg: boolean): string {
  return Array.from({ length: rows }, (_, i) => (pg ? `($${i * 5 + 1}, $${i * 5 + 2}, $${i * 5 + 3}, $${i * 5 + 4}, $${i * 5 + 5})` : '(?, ?, ?, ?, ?)')).join(', ');
}

function batchArgs(repo: string, batch: readonly HubRow[]): unknown[] {
  const args: unknown[] = [];
  for (const r of batch) args.push(repo, r.seq, r.record_id, r.kind, r.body);
  return args;
}

/** The SQLite hub's file, opened a second time (WAL: the hub process keeps serving). */
export function sqliteRaw(path: string): RawTable {
  const db: Db = openDatabase(path);
  const read = db.prepare(READ_SQLITE);
  const all = db.prepare('SELECT seq, record_id, kind, body FROM hub_records WHERE repo = ? ORDER BY seq');
  const inserts = new Map<number, Statement>();
  const insert = (n: number): Statement => {
    let st = inserts.get(n);
    if (!st) inserts.set(n, (st = db.prepare(`INSERT OR IGNORE INTO hub_records (repo, seq, record_id, kind, body) VALUES ${valuesList(n, false)}`)));
    return st;
  };
  return {
    rows: async (repo) => all.all(repo) as HubRow[],
    write: async (repo, rows) => {
      for (let i = 0; i < rows.length; i += RAW_BATCH) {
        const batch = rows.slice(i, i + RAW_BATCH);
        // IMMEDIATE, as the store's own write transaction.
        db.transaction(() => insert(batch.length).run(...batchArgs(repo, batch))).immediate();
      }
    },
    readAll: async (repo, pageSize) => {
      let got = 0;
      let since: number | string = 0;
      for (;;) {
        const rows = read.all(repo, since, pageSize + 1) as { seq: number; body: string }[];
        const page = rows.length > pageSize ? rows.slice(0, pageSize) : rows;
        got += page.length;
        if (rows.length <= pageSize) return got;
        since = page[page.length - 1]!.seq;
      }
    },
    close: async () => {
      db.close();
    },
  };
}

/** A PostgreSQL hub's tables, through one direct connection in the hub's schema. */
export async function pgRaw(url: string, schema: string): Promise<RawTable> {
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  return {
    rows: async (repo) => (await client.query('SELECT seq, record_id, kind, body FROM hub_records WHERE repo = $1 ORDER BY seq', [repo])).rows as HubRow[],
    write: async (repo, rows) => {
      for (let i = 0; i < rows.length; i += RAW_BATCH) {
        const batch = rows.slice(i, i + RAW_BATCH);
        await client.query('BEGIN');
        // Named: parsed and planned once per connection, then only bound and executed.
        await client.query({ name: `raw_insert_${batch.length}`, text: `INSERT INTO hub_records (repo, seq, record_id, kind, body) VALUES ${valuesList(batch.length, true)} ON CONFLICT DO NOTHING`, values: batchArgs(repo, batch) });
        await client.query('COMMIT');
      }
    },
    readAll: async (repo, pageSize) => {
      let got = 0;
      let since = '0';
      for (;;) {
        // Unnamed, as the store sends it: planned per call with its parameters, so a plan
        // that goes wrong on fresh statistics goes wrong here too.
        const rows = (await client.query(READ_PG, [repo, since, pageSize + 1])).rows as { seq: string; body: string }[];
        const page = rows.length > pageSize ? rows.slice(0, pageSize) : rows;
        got += page.length;
        if (rows.length <= pageSize) return got;
        since = page[page.length - 1]!.seq;
      }
    },
    close: () => client.end(),
  };
}
