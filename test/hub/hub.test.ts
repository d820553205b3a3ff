import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { encode } from '@msgpack/msgpack';
import { SqliteHubStore } from '../../src/hub/sqlite-store.js';
import { PgHubStore } from '../../src/hub/pg-store.js';
import type { HubStore } from '../../src/hub/store.js';
import { buildHub } from '../../src/hub/server.js';
import { initIdentity, type Identity } from '../../src/hub/identity.js';
import { authorizationHeader } from '../../src/hub/signature.js';
import { HubClient } from '../../src/coord/sync/hub-client.js';
import { makeRecord } from '../../src/coord/records.js';
import { RECORD_KINDS, type WireRecord } from '../../src/coord/wire.js';
import { silentLogger } from '../../src/lib/log.js';
import { tempDir } from '../helpers/repo.js';
import { PG_URL, dropSchema, pgAvailable, schemaName } from '../helpers/pg.js';

let pgOk = false;
beforeAll(async () => {
  pgOk = await pgAvailable();
});

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function records(n: number, prefix = 'r', from = 0): WireRecord[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return makeRecord(RECORD_KINDS[i % 7]!, `${prefix}-run-${i % 13}`, { n: i, prefix }, 1_700_000_000_000 + i, null, 'colony-x');
  });
}

type Backend = { name: string; open: () => Promise<HubStore> };
const backends: Backend[] = [
  {
    name: 'sqlite',
    open: async () => {
      const t = tempDir();
      const s = new SqliteHubStore(join(t.dir, 'hub.db'));
      await s.init();
      cleanups.push(t.cleanup, () => s.close());
      return s;
    },
  },
  {
    name: 'postgres',
    open: async () => {
      const schema = schemaName();
      const s = new PgHubStore(PG_URL, schema);
      await s.init();
      cleanups.push(() => dropSchema(schema), () => s.close());
      return s;
    },
  },
];

async function startHub(store: HubStore, opts: { allowUnsigned?: boolean; now?: () => number } = {}): Promise<{ url: string; app: FastifyInstance }> {
  const app = buildHub({ store, logger: silentLogger(), ...opts });
  await app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => app.close());
  const addr = app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}`, app };
}

async function identityFor(store: HubStore, repo: string): Promise<Identity> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const { identity } = initIdentity(join(t.dir, 'identity.key'));
  await store.addKey(repo, identity.publicKey, identity.keyId, 'test');
  return identity;
}

describe.each(backends)('hub on $name', (backend) => {
  const skip = (): boolean => backend.name === 'postgres' && !pgOk;

  it('keeps a deduplicated log with increasing sequence numbers, paged by cursor and filtered by kind', async (ctx) => {
    if (skip()) return ctx.skip();
    const s = await backend.open();
    const batch = records(20);
    expect(await s.insert('o/r', batch)).toMatchObject({ inserted: 20, skipped: 0 });
    expect(await s.insert('o/r', [...batch.slice(0, 5), ...records(5, 'new')])).toMatchObject({ inserted: 5, skipped: 5 });
    const p1 = await s.read('o/r', 0n, undefined, 10);
    expect(p1.bodies).toHaveLength(10);
    expect(p1.more).toBe(true);
    const p2 = await s.read('o/r', BigInt(p1.cursor), undefined, 100);
    expect(p2.more).toBe(false);
    const ids = [...p1.bodies, ...p2.bodies].map((b) => JSON.parse(b).record_id);
    expect(new Set(ids).size).toBe(25);
    expect(Number(p2.cursor)).toBeGreaterThan(Number(p1.cursor));
    const tasks = await s.read('o/r', 0n, ['task'], 100);
    expect(tasks.bodies.every((b) => JSON.parse(b).kind === 'task')).toBe(true);
    expect(tasks.bodies.length).toBeGreaterThan(0);
    expect((await s.read('other/repo', 0n, undefined, 10)).bodies).toEqual([]);
  });

  it('50 concurrent pushers × 2,000 overlapping records: each stored once, counts add up, a full pull returns each once in order', async (ctx) => {
    if (skip()) return ctx.skip();
    const s = await backend.open();
    const id = await identityFor(s, 'team/app');
    const { url } = await startHub(s);
    const pool = records(6000);
    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, p) => {
        const client = new HubClient({ hubUrl: url, repoId: 'team/app', identity: id, format: p % 2 ? 'msgpack' : 'json' });
        const mine = Array.from({ length: 2000 }, (_, k) => pool[(p * 97 + k * 3) % pool.length]!);
        let inserted = 0;
        let skipped = 0;
        for (let i = 0; i < mine.length; i += 500) {
          const r = await client.push(mine.slice(i, i + 500));
          inserted += r.inserted;
          skipped += r.skipped;
        }
        return { inserted, skipped, distinct: mine };
      }),
    );
    const distinct = new Set(results.flatMap((r) => r.distinct.map((x) => x.record_id)));
    expect(results.reduce((n, r) => n + r.inserted, 0)).toBe(distinct.size);
    expect(results.reduce((n, r) => n + r.inserted + r.skipped, 0)).toBe(50 * 2000);
    const client = new HubClient({ hubUrl: url, repoId: 'team/app', identity: id });
    const seen: string[] = [];
    let cursor = '0';
    for (;;) {
      const page = await client.pull(cursor);
      seen.push(...page.records.map((r) => r.record_id));
      expect(Number(page.cursor)).toBeGreaterThanOrEqual(Number(cursor));
      cursor = page.cursor;
      if (!page.more) break;
    }
    expect(seen).toHaveLength(distinct.size);
    expect(new Set(seen).size).toBe(distinct.size);
    // Signed pushes carry the signer as origin.
    expect((await client.pull('0', { limit: 1 })).records[0]!.origin).toBe(id.keyId);
  }, 120_000);

  it('refuses unsigned, unknown-key, bad, stale and replayed signatures with a reason', async (ctx) => {
    if (skip()) return ctx.skip();
    const s = await backend.open();
    const id = await identityFor(s, 'sec/repo');
    let clock = Math.floor(Date.now() / 1000);
    const { url } = await startHub(s, { now: () => clock });
    const path = '/v1/repos/sec/repo/records';
    const body = JSON.stringify({ records: records(1) });
    const post = (auth?: string) =>
      fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body });
    const reason = async (res: Response): Promise<string> => {
      expect(res.status).toBe(401);
      return ((await res.json()) as any).error.message;
    };
    expect(await reason(await post())).toMatch(/missing Colony-Sig/);
    const stranger = initIdentity(join(tempDir().dir, 'k')).identity;
    expect(await reason(await post(authorizationHeader(stranger.keyId, stranger.privateKey, 'POST', path, body)))).toMatch(/unknown key/);
    expect(await reason(await post(authorizationHeader(id.keyId, id.privateKey, 'POST', path, body + ' ')))).toMatch(/bad signature/);
    expect(await reason(await post(authorizationHeader(id.keyId, id.privateKey, 'POST', path, body, clock - 301)))).toMatch(/timestamp/);
    const good = authorizationHeader(id.keyId, id.privateKey, 'POST', path, body, clock);
    expect((await post(good)).status).toBe(200);
    expect(await reason(await post(good))).toMatch(/replay/);
    clock += 10;
    expect((await post(authorizationHeader(id.keyId, id.privateKey, 'POST', path, body, clock))).status).toBe(200);
    // A key registered for another repository does not open this one.
    const other = await identityFor(s, 'other/repo');
    expect(await reason(await post(authorizationHeader(other.keyId, other.privateKey, 'POST', path, body, clock)))).toMatch(/unknown key/);
  });

  it('answers bad input with a clear 4xx and keeps serving', async (ctx) => {
    if (skip()) return ctx.skip();
    const s = await backend.open();
    const { url } = await startHub(s, { allowUnsigned: true });
    const path = `${url}/v1/repos/bad/input/records`;
    const post = (body: string | Uint8Array, type = 'application/json') => fetch(path, { method: 'POST', headers: { 'content-type': type }, body });
    const expectErr = async (res: Promise<Response>, status: number, msg: RegExp): Promise<void> => {
      const r = await res;
      expect(r.status).toBe(status);
      expect(((await r.json()) as any).error.message).toMatch(msg);
    };
    await expectErr(post('{nope'), 400, /not valid JSON/);
    await expectErr(post(new Uint8Array([0xc1, 0xff, 0x00]), 'application/msgpack'), 400, /not valid MessagePack/);
    await expectErr(post(JSON.stringify({ records: [{ kind: 'reservation' }] })), 400, /record_id/);
    await expectErr(post(JSON.stringify({ records: [{ ...records(1)[0], kind: 'rumour' }] })), 400, /kind/);
    await expectErr(post(JSON.stringify({ records: records(501) })), 413, /at most 500/);
    await expectErr(post(encode({ records: records(501) }), 'application/msgpack'), 413, /at most 500/);
    await expectErr(fetch(`${url}/v1/repos/bad/input/records?since=abc`), 400, /since/);
    await expectErr(fetch(`${url}/v1/repos/never/seen/records`), 404, /unknown repository/);
    await expectErr(fetch(`${url}/v1/repos/b%20d/x/records`), 400, /owner/);
    expect((await post(encode({ records: records(3) }), 'application/msgpack')).status).toBe(200);
    const pulled = await fetch(`${path}?limit=2`, { headers: { accept: 'application/msgpack' } });
    expect(pulled.headers.get('content-type')).toMatch(/msgpack/);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });
});
