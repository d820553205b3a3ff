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
];
