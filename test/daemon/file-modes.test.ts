import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { colony } from '../helpers/cli.js';
import { api, startTestDaemon } from '../helpers/daemon.js';
import { makeTempRepo, tempDir } from '../helpers/repo.js';
import { SqliteHubStore } from '../../src/hub/sqlite-store.js';
import { openDatabase } from '../../src/lib/sqlite.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const mode = (p: string): number => statSync(p).mode & 0o777;

/** The database and whichever of its journal files exist are owner-only. */
function expectPrivateDb(file: string): void {
  expect(mode(file), file).toBe(0o600);
  for (const f of [`${file}-wal`, `${file}-shm`]) if (existsSync(f)) expect(mode(f), f).toBe(0o600);
}

function repo(): string {
  const r = makeTempRepo();
  cleanups.push(r.cleanup);
  return r.dir;
}

describe('file modes: .colony/ is 0700 and databases are 0600 whichever command comes first', () => {
  it('colony identity init on a fresh repository', async () => {
    const r = repo();
    expect((await colony(['identity', 'init', '--json'], r)).code).toBe(0);
    expect(mode(join(r, '.colony'))).toBe(0o700);
    expect(mode(join(r, '.colony', 'identity.key'))).toBe(0o600);
  });

  it('the daemon over a .colony/ made by hand (0755, config.json 0644) tightens it; database, WAL and SHM are 0600', async () => {
    const r = repo();
    mkdirSync(join(r, '.colony'), { mode: 0o755 });
    writeFileSync(join(r, '.colony', 'config.json'), '{"max_concurrency": 2}\n', { mode: 0o644 });
    expect(mode(join(r, '.colony'))).toBe(0o755);
    const d = await startTestDaemon(r);
    cleanups.push(() => d.close());
    expect((await api(d.url, 'POST', '/coord/reserve', { run_id: 'A', symbols: ['a.ts'] })).status).toBe(200);
    expect(mode(join(r, '.colony'))).toBe(0o700);
    expect(existsSync(join(r, '.colony', 'colony.db-wal'))).toBe(true);
    expectPrivateDb(join(r, '.colony', 'colony.db'));
  });

  it('colony coord gc as the first command creates both private', async () => {
    const r = repo();
    expect((await colony(['coord', 'gc', '--json'], r)).code).toBe(0);
    expect(mode(join(r, '.colony'))).toBe(0o700);
    expectPrivateDb(join(r, '.colony', 'colony.db'));
  });

  it("the hub's SQLite file (from the CLI and the store), and a database file left 0644 by an older version", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const viaCli = join(t.dir, 'cli', 'hub.db');
    const added = await colony(['hub', 'keys', 'add', 'acme/app', 'ed25519:' + Buffer.alloc(32, 7).toString('base64url'), '--db', `sqlite:${viaCli}`], t.dir);
    expect(added.code, added.stderr).toBe(0);
    expect(mode(join(t.dir, 'cli'))).toBe(0o700);
    expectPrivateDb(viaCli);

    const store = new SqliteHubStore(join(t.dir, 'store', 'hub.db'));
    await store.init();
    await store.addKey('acme/app', 'ed25519:x', 'k1');
    expectPrivateDb(join(t.dir, 'store', 'hub.db'));
    await store.close();

    const old = join(t.dir, 'old.db');
    writeFileSync(old, '', { mode: 0o644 });
    openDatabase(old).close();
    expect(mode(old)).toBe(0o600);
  });
});
