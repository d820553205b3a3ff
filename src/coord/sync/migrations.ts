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
];
