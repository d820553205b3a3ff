import type { Migration } from '../lib/sqlite.js';

/**
 * `coord_records` is the log of every record in wire form (what gather and sync read);
 * the other tables are indexes over it that make each query cheap. Both are written in
 * the same transaction. `origin` is 'local' or the colony that wrote a remote record.
 */
export const coordMigrations: Migration[] = [
  {
    version: 2,
    name: 'coord_records',
    up: `
      CREATE TABLE coord_records (
        record_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        run_id TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        origin TEXT NOT NULL DEFAULT 'local'
      );
      CREATE INDEX coord_records_kind ON coord_records(kind, created_at);

      CREATE TABLE coord_reservations (
        reservation_id TEXT PRIMARY KEY,
        record_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        mode TEXT NOT NULL,
        symbols TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        -- The run's latest heartbeat, copied here when it arrives so reads need no join.
        hb_until INTEGER NOT NULL DEFAULT 0,
        released_at INTEGER,
        origin TEXT NOT NULL
      );
      CREATE INDEX coord_reservations_run ON coord_reservations(run_id);
      CREATE INDEX coord_reservations_live ON coord_reservations(expires_at) WHERE released_at IS NULL;

      -- One row per reserved symbol: exact paths are found by index, globs by literal prefix.
      CREATE TABLE coord_symbols (
        reservation_id TEXT NOT NULL,
        path TEXT NOT NULL,
        name TEXT,
        glob INTEGER NOT NULL,
        prefix TEXT NOT NULL
      );
      CREATE INDEX coord_symbols_path ON coord_symbols(path);
      CREATE INDEX coord_symbols_glob ON coord_symbols(prefix) WHERE glob = 1;
      CREATE INDEX coord_symbols_res ON coord_symbols(reservation_id);

      CREATE TABLE coord_releases (
        release_id TEXT PRIMARY KEY,
        record_id TEXT NOT NULL,
        reservation_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        released_at INTEGER NOT NULL
      );
      CREATE INDEX coord_releases_res ON coord_releases(reservation_id);

      CREATE TABLE coord_intents (
        intent_id TEXT PRIMARY KEY,
        record_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        reservation_id TEXT NOT NULL,
        operation TEXT NOT NULL,
        target TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX coord_intents_res ON coord_intents(reservation_id);

      -- Latest heartbeat per run and origin: it extends every reservation and claim of the run.
      CREATE TABLE coord_heartbeats (
        run_id TEXT NOT NULL,
        origin TEXT NOT NULL,
        record_id TEXT NOT NULL,
        extended_expires_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, origin)
      );

      CREATE TABLE coord_dependencies (
        reservation_id TEXT PRIMARY KEY,
        record_id TEXT NOT NULL,
        depends_on TEXT NOT NULL
      );

      CREATE TABLE coord_tasks (
        task_id TEXT PRIMARY KEY,
        record_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        description TEXT NOT NULL,
        priority INTEGER NOT NULL,
        depends_on TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        completed_at INTEGER,
        completed_by TEXT,
        origin TEXT NOT NULL
      );
      CREATE INDEX coord_tasks_ready ON coord_tasks(priority DESC, created_at) WHERE completed_at IS NULL;
      CREATE TABLE coord_task_deps (
        task_id TEXT NOT NULL,
        depends_on TEXT NOT NULL,
        PRIMARY KEY (task_id, depends_on)
      );
      CREATE INDEX coord_task_deps_on ON coord_task_deps(depends_on);

      -- The latest claim of each task; a claim is live while its expiry (or its run's
      -- heartbeat) is in the future.
      CREATE TABLE coord_claims (
        task_id TEXT PRIMARY KEY,
        record_id TEXT NOT NULL,
        claimer_run_id TEXT NOT NULL,
        claimed_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        hb_until INTEGER NOT NULL DEFAULT 0,
        -- An abandoned claim ends at once: heartbeats no longer extend it.
        ended INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX coord_claims_run ON coord_claims(claimer_run_id);
    `,
  },
];
