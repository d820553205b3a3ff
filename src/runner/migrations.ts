import type { Migration } from '../lib/sqlite.js';

export const runnerMigrations: Migration[] = [
  {
    version: 1,
    name: 'runner_jobs',
    up: `
      CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        agent TEXT NOT NULL,
        model TEXT,
        prompt TEXT NOT NULL,
        timeout_s INTEGER NOT NULL,
        base_ref TEXT,
        metadata TEXT,
        source TEXT NOT NULL DEFAULT 'execute',
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        running_at INTEGER,
        finished_at INTEGER,
        exit_code INTEGER,
        result TEXT,
        usage TEXT,
        branch TEXT,
        commits TEXT,
        diff_stat TEXT,
        workspace TEXT,
        error TEXT
      );
      CREATE INDEX jobs_status_seq ON jobs(status, seq);
      CREATE INDEX jobs_finished ON jobs(finished_at) WHERE finished_at IS NOT NULL;
      CREATE TABLE job_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE INDEX job_events_job ON job_events(job_id, id);
    `,
  },
  {
    // Numbers are global across domains (daemon/migrations.ts): 7 was the next free one.
    version: 8,
    name: 'runner_job_permissions',
    // The permission level chosen at submit; older rows run at their agent's configured level.
    up: `ALTER TABLE jobs ADD COLUMN permissions TEXT;`,
  },
  {
    // The process group of a job's setup command or agent while it runs: a daemon killed
    // with -9 cannot end them, so the next start does.
    version: 10,
    name: 'runner_job_pgid',
    up: `ALTER TABLE jobs ADD COLUMN pgid INTEGER;`,
  },
];
