import type { Migration } from '../lib/sqlite.js';

/**
 * The merge queue's tables. Version 13 is this domain's own number (others take theirs in
 * order; a gap is harmless, the runner applies whatever is missing in ascending order).
 */
export const landMigrations: Migration[] = [
  {
    version: 13,
    name: 'land_queue',
    up: `
      CREATE TABLE land_entries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        job_id TEXT NOT NULL,
        branch TEXT NOT NULL,
        head TEXT NOT NULL,
        target TEXT NOT NULL,
        status TEXT NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 1,
        tries INTEGER NOT NULL DEFAULT 0,
        landed_commit TEXT,
        evidence TEXT,
        follow_up TEXT,
        error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX land_entries_status ON land_entries(status, seq);
      CREATE INDEX land_entries_job ON land_entries(job_id, seq);
      CREATE TABLE land_jobs (
        job_id TEXT PRIMARY KEY,
        land INTEGER NOT NULL DEFAULT 0,
        reserve TEXT,
        task_id TEXT,
        parent_job_id TEXT,
        depth INTEGER NOT NULL DEFAULT 1,
        attempt INTEGER NOT NULL DEFAULT 1,
        follow_up_of TEXT,
        reservation_id TEXT,
        held INTEGER NOT NULL DEFAULT 0,
        waiting TEXT,
        overtakes INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX land_jobs_parent ON land_jobs(parent_job_id) WHERE parent_job_id IS NOT NULL;
      CREATE INDEX land_jobs_held ON land_jobs(held) WHERE held = 1;
      CREATE TABLE land_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        entry_id TEXT NOT NULL,
        job_id TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        at INTEGER NOT NULL
      );
    `,
  },
];
