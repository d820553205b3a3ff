import type { Migration } from '../lib/sqlite.js';

/** Swarm runs and their tasks. Versions 14 and 17 are this domain's numbers in the global sequence. */
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
  {
    // Every planner job, not only the current one: a failed attempt's usage still counts.
    version: 17,
    name: 'swarm planner attempts',
    up: `
      ALTER TABLE swarm_runs ADD COLUMN planner_job_ids TEXT NOT NULL DEFAULT '[]';
      UPDATE swarm_runs SET planner_job_ids = json_array(planner_job_id) WHERE planner_job_id IS NOT NULL;
    `,
  },
];
