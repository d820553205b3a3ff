import type { Migration } from '../lib/sqlite.js';
import { runnerMigrations } from '../runner/migrations.js';
import { coordMigrations } from '../coord/migrations.js';
import { syncMigrations } from '../coord/sync/migrations.js';
import { memoryMigrations } from '../memory/migrations.js';
import { landMigrations } from '../land/migrations.js';
import { swarmMigrations } from '../swarm/migrations.js';

/**
 * Every migration of the colony database, in one global numbered sequence. Each domain owns
 * its SQL; numbers are taken in order as domains add tables. Never edit a shipped migration.
 */
export const colonyMigrations: Migration[] = [
  ...runnerMigrations,
  ...coordMigrations,
  ...syncMigrations,
  ...memoryMigrations,
  ...landMigrations,
  ...swarmMigrations,
  // domain migrations: add spread lines here
];
