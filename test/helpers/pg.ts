import pg from 'pg';
import { randomBytes } from 'node:crypto';

export const PG_URL = process.env.COLONY_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Is the test Postgres reachable? Under CI=true it must be: the tests then fail instead of
 * skipping. Elsewhere an unreachable server skips them with a visible notice.
 */
export async function pgAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch (err) {
    if (process.env.CI === 'true') throw new Error(`COLONY_TEST_PG (${PG_URL}) unreachable under CI=true: ${(err as Error).message}`);
    process.stderr.write(`\n*** NOTICE: Postgres at ${PG_URL} unreachable (${(err as Error).message}); Postgres hub tests SKIPPED ***\n\n`);
    return false;
  }
}

/** A fresh schema name for one test; dropSchema removes it. */
export function schemaName(): string {
  return `colony_test_${randomBytes(6).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
}
