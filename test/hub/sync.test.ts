import { afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { spawnColony, type ColonyProcess } from '../../bench/colony-process.js';
import { colony } from '../helpers/cli.js';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { openDatabase } from '../../src/lib/sqlite.js';
import { colonyMigrations } from '../../src/daemon/migrations.js';
import { ManualClock } from '../../src/lib/clock.js';
import { CoordService } from '../../src/coord/service.js';
import { HubClient } from '../../src/coord/sync/hub-client.js';
import { pull, push } from '../../src/coord/sync/sync.js';
import { initIdentity } from '../../src/hub/identity.js';
import { api, spawnDaemon, waitUntil, stopProcess } from '../helpers/daemon.js';
import { makeTempRepo, tempDir } from '../helpers/repo.js';

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});


/** `colony hub serve` as a real process on a SQLite file; resolves once it listens. */
async function startHubProcess(db: string, port = 0): Promise<ColonyProcess> {
  const hub = await spawnColony(['hub', 'serve', '--port', String(port), '--db', `sqlite:${db}`], { COLONY_LOG_LEVEL: 'warn' });
  cleanups.push(() => hub.stop('SIGKILL'));
  return hub;
}

function openColony(dir: string, clock = new ManualClock(Date.now())): CoordService {
  const db = openDatabase(join(dir, 'colony.db'), { migrations: colonyMigrations });
  cleanups.push(() => {
    db.close();
  });
  return new CoordService({ db, clock });
}

describe('sync between colonies through a real hub process', () => {
  it('identities, keys and push/pull from the CLI: a remote reservation blocks a local reserve', async () => {
    const hubDir = tempDir();
    const a = makeTempRepo();
    const b = makeTempRepo();
    cleanups.push(hubDir.cleanup, a.cleanup, b.cleanup);
    const hubDb = join(hubDir.dir, 'hub.db');
    const ids: string[] = [];
    const publicKeys: string[] = [];
    for (const r of [a.dir, b.dir]) {
      const init = JSON.parse((await colony(['identity', 'init', '--json'], r)).stdout);
      expect(init).toMatchObject({ key_id: expect.stringMatching(/^[0-9a-f]{16}$/), public_key: expect.any(String), created: true });
      expect(JSON.parse((await colony(['identity', 'show', '--json'], r)).stdout)).toEqual({ key_id: init.key_id, public_key: init.public_key });
      const added = await colony(['hub', 'keys', 'add', 'acme/app', init.public_key, '--name', 'colony', '--db', `sqlite:${hubDb}`, '--json'], r);
      expect(JSON.parse(added.stdout)).toEqual({ key_id: init.key_id, repo: 'acme/app' });
      ids.push(init.key_id);
      publicKeys.push(init.public_key);
    }
    expect(statSync(join(a.dir, '.colony', 'identity.key')).mode & 0o777).toBe(0o600);
    expect(JSON.parse((await colony(['hub', 'keys', 'ls', '--db', `sqlite:${hubDb}`, '--json'], a.dir)).stdout).keys).toHaveLength(2);
    const spare = JSON.parse((await colony(['hub', 'keys', 'add', 'acme/other', publicKeys[0]!, '--db', `sqlite:${hubDb}`, '--json'], a.dir)).stdout);
    expect(spare).toEqual({ key_id: ids[0], repo: 'acme/other' });
    expect(JSON.parse((await colony(['hub', 'keys', 'ls', 'acme/other', '--db', `sqlite:${hubDb}`, '--json'], a.dir)).stdout).keys).toHaveLength(1);
    const bad = await colony(['hub', 'keys', 'add', 'not-a-repo', 'ed25519:xyz', '--db', `sqlite:${hubDb}`], a.dir);
    expect(bad.stderr).toMatch(/owner\/slug/);
    const hub = await startHubProcess(hubDb);

    // Colony A reserves through its store; then pushes.
    const coordA = openColony(join(a.dir, '.colony'), new ManualClock(Date.now()));
    const held = coordA.reserve({ run_id: 'agent-a', symbols: ['src/api.ts::Client'] }) as any;
    const t = coordA.taskCreate({ run_id: 'agent-a', description: 'shared task' });
    const hubFlags = ['--hub', hub.url, '--repo-id', 'acme/app', '--json'];
    const pushed = JSON.parse((await colony(['coord', 'push', ...hubFlags], a.dir)).stdout);
    expect(pushed).toEqual({ inserted: 2, skipped: 0, batches: 1, refused: 0 });
    expect(JSON.parse((await colony(['coord', 'push', ...hubFlags], a.dir)).stdout)).toEqual({ inserted: 0, skipped: 0, batches: 0, refused: 0 });

    const pulled = JSON.parse((await colony(['coord', 'pull', ...hubFlags], b.dir)).stdout);
    expect(pulled).toMatchObject({ received: 2 });
    const coordB = openColony(join(b.dir, '.colony'));
    const clash = coordB.reserve({ run_id: 'agent-b', symbols: ['src/api.ts'] });
    expect(clash).toMatchObject({ granted: false, conflicts: [{ reservation_id: held.reservation_id, run_id: 'agent-a' }] });
    expect(coordB.taskReady().tasks.map((x) => x.task_id)).toEqual([t.task_id]);
    // B's own records travel back to A; each side counts only what it did not have.
    coordB.taskClaim({ run_id: 'agent-b', task_id: t.task_id });
    expect(JSON.parse((await colony(['coord', 'sync', ...hubFlags], b.dir)).stdout)).toMatchObject({ push: { inserted: 1 }, pull: { received: 0 } });
    expect(JSON.parse((await colony(['coord', 'pull', ...hubFlags], a.dir)).stdout)).toMatchObject({ received: 1 });
    expect(coordA.taskClaim({ run_id: 'agent-a2', task_id: t.task_id })).toMatchObject({ claimed: false, holder: { run_id: 'agent-b' } });
    // Errors a person can cause get plain messages.
    const noHub = await colony(['coord', 'push', '--repo-id', 'acme/app'], a.dir);
    expect(noHub.stderr).toMatch(/no hub configured/);
    const stranger = makeTempRepo();
    cleanups.push(stranger.cleanup);
    await colony(['identity', 'init'], stranger.dir);
    openColony(join(stranger.dir, '.colony')).reserve({ run_id: 's', symbols: ['x.ts'] });
    const refused = await colony(['coord', 'push', ...hubFlags], stranger.dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^colony: hub: unknown key [0-9a-f]+ for acme\/app\n$/);
    // A removed key no longer opens the hub.
    expect(JSON.parse((await colony(['hub', 'keys', 'rm', ids[1]!, '--db', `sqlite:${hubDb}`, '--json'], a.dir)).stdout)).toEqual({ removed: true });
    coordB.reserve({ run_id: 'agent-b', symbols: ['after/removal.ts'] });
    expect((await colony(['coord', 'push', ...hubFlags], b.dir)).stderr).toMatch(/unknown key/);
  }, 180_000);

  it('daemons started with --hub keep in sync: a reservation on one blocks agents on the other', async () => {
    const hubDir = tempDir();
    cleanups.push(hubDir.cleanup);
    const hubDb = join(hubDir.dir, 'hub.db');
    const daemons: { child: ChildProcess; url: string }[] = [];
    const repos = [makeTempRepo(), makeTempRepo()];
    for (const r of repos) {
      cleanups.push(r.cleanup);
      const init = JSON.parse((await colony(['identity', 'init', '--json'], r.dir)).stdout);
      await colony(['hub', 'keys', 'add', 'acme/live', init.public_key, '--db', `sqlite:${hubDb}`], r.dir);
    }
    const hub = await startHubProcess(hubDb);
    for (const r of repos) {
      const d = await spawnDaemon(r.dir, ['--hub', hub.url, '--repo-id', 'acme/live', '--sync-every', '1']);
      cleanups.push(() => stopProcess(d.child));
      daemons.push(d);
    }
    const granted = await api(daemons[0]!.url, 'POST', '/coord/reserve', { run_id: 'east', symbols: ['lib/core.ts'] });
    expect(granted.body.granted).toBe(true);
    const blocked = await waitUntil(
      async () => {
        const r = await api(daemons[1]!.url, 'POST', '/coord/check', { symbols: ['lib/core.ts'] });
        return r.body.holders.length ? r.body.holders : undefined;
      },
      15_000,
      'the reservation to reach the other daemon',
    );
    expect(blocked[0]).toMatchObject({ run_id: 'east', reservation_id: granted.body.reservation_id });
    expect((await api(daemons[1]!.url, 'POST', '/coord/reserve', { run_id: 'west', symbols: ['lib/core.ts'] })).body.granted).toBe(false);
  }, 180_000);

  it('hub serve shuts down cleanly on SIGHUP (its terminal closed), as on SIGTERM', async () => {
    const hubDir = tempDir();
    cleanups.push(hubDir.cleanup);
    const hub = await startHubProcess(join(hubDir.dir, 'hub.db'));
    const exited = new Promise<[number | null, string | null]>((r) => hub.child.once('exit', (code, signal) => r([code, signal])));
    hub.child.kill('SIGHUP');
    expect(await exited).toEqual([0, null]);
  });

  it('a hub killed during a push and restarted loses and doubles nothing', async () => {
    const hubDir = tempDir();
    const col = tempDir();
    cleanups.push(hubDir.cleanup, col.cleanup);
    const hubDb = join(hubDir.dir, 'hub.db');
    const { identity } = initIdentity(join(col.dir, 'identity.key'));
    const reg = await colony(['hub', 'keys', 'add', 'acme/crash', identity.publicKey, '--db', `sqlite:${hubDb}`], col.dir);
    expect(reg.code).toBe(0);
    const coord = openColony(col.dir);
    coord.store.db.transaction(() => {
      for (let i = 0; i < 5000; i++) coord.reserve({ run_id: `run-${i}`, symbols: [`f/${i}.ts`] });
    })();
    let hub = await startHubProcess(hubDb);
    let client = new HubClient({ hubUrl: hub.url, repoId: 'acme/crash', identity, retries: 1, backoffMs: 50 });
    let batches = 0;
    const first = push(coord, client, {
      origin: identity.keyId,
      onProgress: () => {
        if (++batches === 3) hub.child.kill('SIGKILL');
      },
    });
    await expect(first).rejects.toThrow(/unreachable/);
    // Confirmed: every record under the hub's watermark, and batches confirmed out of order.
    const markedAfterCrash = (
      coord.store.db
        .prepare(
          `SELECT (SELECT COUNT(*) FROM coord_local_seq WHERE seq <= COALESCE((SELECT seq FROM coord_push_watermark), 0))
                + (SELECT COUNT(*) FROM coord_pushed p JOIN coord_local_seq s USING (record_id) WHERE s.seq > COALESCE((SELECT seq FROM coord_push_watermark), 0)) n`,
        )
        .get() as { n: number }
    ).n;
    expect(markedAfterCrash).toBeGreaterThanOrEqual(1500);
    expect(markedAfterCrash).toBeLessThan(5000);
    // The same hub comes back at the same address: push state is kept per hub and repository.
    hub = await startHubProcess(hubDb, Number(new URL(hub.url).port));
    client = new HubClient({ hubUrl: hub.url, repoId: 'acme/crash', identity });
    const again = await push(coord, client, { origin: identity.keyId });
    expect(again.inserted + again.skipped).toBe(5000 - markedAfterCrash);
    // Pull everything back into another colony: 5,000 distinct records, none twice.
    const other = tempDir();
    cleanups.push(other.cleanup);
    const reader = openColony(other.dir);
    const { identity: readerId } = initIdentity(join(other.dir, 'identity.key'));
    await colony(['hub', 'keys', 'add', 'acme/crash', readerId.publicKey, '--db', `sqlite:${hubDb}`], col.dir);
    const r = await pull(reader, new HubClient({ hubUrl: hub.url, repoId: 'acme/crash', identity: readerId }), { hub: hub.url, repoId: 'acme/crash', ownOrigin: readerId.keyId });
    expect(r.received).toBe(5000);
    expect(reader.gatherRecords(['reservation'])).toHaveLength(5000);
    // Pulling again from the saved cursor brings nothing new.
    expect((await pull(reader, new HubClient({ hubUrl: hub.url, repoId: 'acme/crash', identity: readerId }), { hub: hub.url, repoId: 'acme/crash', ownOrigin: readerId.keyId })).received).toBe(0);
  }, 180_000);
});
