import type { Command } from 'commander';
import { colonyPaths, ensureColonyDir } from '../daemon/paths.js';
import type { CoordService } from '../coord/service.js';
import type { PullResult } from '../coord/sync/index.js';
import { plural, printResult } from './output.js';
import { InvalidInputError } from '../lib/errors.js';
import { RECORD_KINDS, type RecordKind } from '../coord/wire.js';
import { resolveRepoRoot } from './repo.js';

interface SyncFlags {
  hub?: string;
  repoId?: string;
  repo?: string;
  json?: boolean;
  kinds?: RecordKind[];
  since?: string;
  limit?: number;
}

/** `--kinds reservation,release`: known kinds only. */
function parseKinds(v: string): RecordKind[] {
  const kinds = v.split(',').map((k) => k.trim()).filter(Boolean);
  const bad = kinds.filter((k) => !(RECORD_KINDS as readonly string[]).includes(k));
  if (!kinds.length || bad.length) throw new InvalidInputError(`--kinds: unknown kind '${bad[0] ?? v}' (have: ${RECORD_KINDS.join(', ')})`);
  return kinds as RecordKind[];
}

function parseSince(v: string): string {
  if (!/^\d{1,19}$/.test(v) || BigInt(v) > 9223372036854775807n) throw new InvalidInputError(`--since: a cursor (a whole number), got '${v}'`);
  return v;
}

function parseLimit(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new InvalidInputError(`--limit: an integer from 1 to 1000000, got '${v}'`);
  return n;
}

/** Progress on stderr, only where a person is watching. */
function progress(label: string): (done: number, total?: number) => void {
  return (done, total) => {
    if (!process.stderr.isTTY) return;
    process.stderr.write(`\r${label}: ${done}${total !== undefined ? `/${total}` : ''}   `);
  };
}

/** Records a pull skipped as unacceptable, with the first reasons. */
function refusedNote(v: PullResult): string {
  if (!v.refused) return '';
  return `\nrefused ${v.refused} records:\n${v.refusals.map((r) => `  ${r.kind} ${r.record_id.slice(0, 12)} from ${r.origin}: ${r.reason}`).join('\n')}`;
}

/** Runs against the store file directly (WAL lets it run beside a daemon). */
async function withCoord<T>(
  o: SyncFlags,
  fn: (coord: CoordService, target: { hubUrl: string; repoId: string; identityFile: string }, sync: typeof import('../coord/sync/index.js')) => Promise<T>,
): Promise<T> {
  // Loaded here, not at the top: only these commands need the store and the hub client.
  const [{ openDatabase }, { systemClock }, { colonyMigrations }, { readConfigFile }, { CoordService }, sync] = await Promise.all([
    import('../lib/sqlite.js'),
    import('../lib/clock.js'),
    import('../daemon/migrations.js'),
    import('../daemon/config.js'),
    import('../coord/service.js'),
    import('../coord/sync/index.js'),
  ]);
  const repo = resolveRepoRoot(o.repo);
  const file = readConfigFile(repo);
  const paths = colonyPaths(repo);
  ensureColonyDir(paths);
  const db = openDatabase(paths.db, { migrations: colonyMigrations });
  try {
    const target = {
      hubUrl: o.hub ?? process.env.COLONY_HUB_URL ?? (file.hub_url as string | undefined) ?? '',
      repoId: o.repoId ?? process.env.COLONY_REPO_ID ?? (file.repo_id as string | undefined) ?? '',
      identityFile: paths.identityKey,
    };
    return await fn(new CoordService({ db, clock: systemClock }), target, sync);
  } finally {
    if (process.stderr.isTTY) process.stderr.write('\n');
    db.close();
  }
}

function flags(cmd: Command): Command {
  return cmd
    .option('--hub <url>', 'hub URL (default: hub_url in .colony/config.json)')
    .option('--repo-id <owner/slug>', 'repository id on the hub (default: repo_id in .colony/config.json)')
    .option('--repo <dir>', 'repository')
    .option('--json', 'print JSON');
}

/** `colony coord push|pull|sync`. */
export function registerSyncCommands(coord: Command): void {
  flags(coord.command('push').description('send local records this hub and repository id do not have yet, in batches'))
    .option('--kinds <list>', 'only these record kinds (comma-separated)', parseKinds)
    .action((o: SyncFlags) =>
      withCoord(o, async (c, t, { syncClient, push }) => {
        const { client, origin } = syncClient(t);
        const r = await push(c, client, { origin, kinds: o.kinds, onProgress: progress('push') });
        printResult(!!o.json, r, (v) =>
          `pushed ${plural(v.inserted, 'new record')} (${v.skipped} already on the hub) in ${plural(v.batches, 'batch', 'batches')}` +
            (v.refused ? `; the hub refused ${v.refused} (they name a reservation or run another colony owns)` : ''),
        );
      }),
    );
  flags(coord.command('pull').description('fetch records other colonies pushed, from the saved cursor'))
    .option('--kinds <list>', 'only these record kinds (comma-separated); leaves the saved cursor alone', parseKinds)
    .option('--since <cursor>', 'read from this cursor instead of the saved one; leaves the saved cursor alone', parseSince)
    .option('--limit <n>', 'stop after this many records; leaves the saved cursor alone', parseLimit)
    .action((o: SyncFlags) =>
      withCoord(o, async (c, t, { syncClient, pull }) => {
        const { client, origin } = syncClient(t);
        const r = await pull(c, client, { hub: t.hubUrl, repoId: t.repoId, ownOrigin: origin, kinds: o.kinds, since: o.since, limit: o.limit, onProgress: progress('pull') });
        printResult(!!o.json, r, (v) => `received ${plural(v.received, 'record')}; cursor ${v.cursor}${refusedNote(v)}`);
      }),
    );
  flags(coord.command('sync').description('push, then pull')).action((o: SyncFlags) =>
    withCoord(o, async (c, t, { syncClient, push, pull }) => {
      const { client, origin } = syncClient(t);
      const pushed = await push(c, client, { origin, onProgress: progress('push') });
      const pulled = await pull(c, client, { hub: t.hubUrl, repoId: t.repoId, ownOrigin: origin, onProgress: progress('pull') });
      printResult(!!o.json, { push: pushed, pull: pulled }, (v) => `pushed ${v.push.inserted}, received ${v.pull.received}`);
    }),
  );
}
