import type { Migration } from '../../lib/sqlite.js';

export const syncMigrations: Migration[] = [
  {
    version: 3,
    name: 'coord_sync_state',
    up: `
      -- Where each pull from a hub left off, per hub and repository id.
      CREATE TABLE coord_sync_state (hub TEXT NOT NULL, repo_id TEXT NOT NULL, cursor TEXT NOT NULL, updated_at INTEGER NOT NULL,
        PRIMARY KEY (hub, repo_id));
      -- Local records a hub has confirmed. Kept apart from the records so marking a batch
      -- writes a few small rows instead of rewriting every record with its payload.
      CREATE TABLE coord_pushed (record_id TEXT PRIMARY KEY) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    name: 'coord_pushed_per_hub',
    up: `
      -- What each hub has confirmed, per hub and repository id: pushing to a second one must
      -- send everything again. (The old marks did not say which hub; the first push after
      -- this re-sends, and the hub skips what it has.)
      DROP TABLE coord_pushed;
      CREATE TABLE coord_pushed (record_id TEXT NOT NULL, hub TEXT NOT NULL, repo_id TEXT NOT NULL,
        PRIMARY KEY (record_id, hub, repo_id)) WITHOUT ROWID;
    `,
  },
  {
    version: 16,
    name: 'coord_push_watermark',
    up: `
      -- Local records numbered in the order they were written, never reusing a number
      -- (AUTOINCREMENT), kept by triggers so every writer of coord_records is covered.
      CREATE TABLE coord_local_seq (seq INTEGER PRIMARY KEY AUTOINCREMENT, record_id TEXT NOT NULL UNIQUE);
      INSERT INTO coord_local_seq (record_id) SELECT record_id FROM coord_records WHERE origin = 'local' ORDER BY created_at, record_id;
      CREATE TRIGGER coord_local_seq_add AFTER INSERT ON coord_records WHEN NEW.origin = 'local'
        BEGIN INSERT OR IGNORE INTO coord_local_seq (record_id) VALUES (NEW.record_id); END;
      CREATE TRIGGER coord_local_seq_drop AFTER DELETE ON coord_records WHEN OLD.origin = 'local'
        BEGIN DELETE FROM coord_local_seq WHERE record_id = OLD.record_id; END;
      -- Per hub and repository id, every local record numbered up to seq is confirmed: a push
      -- reads what follows instead of every local record. coord_pushed keeps the marks of
      -- batches confirmed past it (a push that failed half-way).
      CREATE TABLE coord_push_watermark (hub TEXT NOT NULL, repo_id TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (hub, repo_id)) WITHOUT ROWID;
    `,
  },
];
