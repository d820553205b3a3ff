import type { Migration } from '../lib/sqlite.js';

/** Swarm runs and their tasks. Version 14 is this domain's number in the global sequence. */
export const swarmMigrations: Migration[] = [
  {
    version: 14,
    name: 'swarms',
    up: `
      CREATE TABLE swarm_runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        goal TEXT,
        source TEXT NOT NULL,
        agents INTEGER NOT NULL,
        agent TEXT NOT NULL,
        model TEXT,
        permissions TEXT,
        timeout_s INTEGER,
        max_attempts INTEGER NOT NULL,
        planner_job_id TEXT,
        error TEXT,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER
      );
      CREATE INDEX swarm_runs_open ON swarm_runs(status) WHERE status IN ('planning', 'running');
      CREATE TABLE swarm_tasks (
        swarm_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        ord INTEGER NOT NULL,
        key TEXT,
        description TEXT NOT NULL,
        depends_on TEXT NOT NULL,
        reserve TEXT NOT NULL,
        priority INTEGER NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        job_id TEXT,
        job_ids TEXT NOT NULL DEFAULT '[]',
        worker INTEGER,
        reason TEXT,
        PRIMARY KEY (swarm_id, task_id)
      );
    `,
  },
];
