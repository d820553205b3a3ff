import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { SqliteHubStore } from '../../src/hub/sqlite-store.js';
import { PgHubStore } from '../../src/hub/pg-store.js';
import type { HubStore } from '../../src/hub/store.js';
import { buildHub } from '../../src/hub/server.js';
import { initIdentity, type Identity } from '../../src/hub/identity.js';
import { authorizationHeader } from '../../src/hub/signature.js';
import { makeRecord } from '../../src/coord/records.js';
import { MAX_PUSH_BYTES, type WireRecord } from '../../src/coord/wire.js';
import { silentLogger } from '../../src/lib/log.js';
import { tempDir } from '../helpers/repo.js';
import { PG_URL, dropSchema, pgAvailable, schemaName } from '../helpers/pg.js';

let pgOk = false;
beforeAll(async () => {
  pgOk = await pgAvailable();
});

let cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A backend that can be opened again on the same data (a hub restart). */
type Backend = { name: string; place: () => () => Promise<HubStore> };
const backends: Backend[] = [
  {
    name: 'sqlite',
    place: () => {
      const t = tempDir();
      cleanups.push(t.cleanup);
      return async () => {
        const s = new SqliteHubStore(join(t.dir, 'hub.db'));
        await s.init();
        return s;
      };
    },
  },
  {
    name: 'postgres',
    place: () => {
      const schema = schemaName();
      cleanups.push(() => dropSchema(schema));
      return async () => {
        const s = new PgHubStore(PG_URL, schema);
        await s.init();
        return s;
      };
    },
  },
];

async function startHub(store: HubStore, opts: { allowUnsigned?: boolean; now?: () => number } = {}): Promise<{ url: string; app: FastifyInstance; port: number }> {
  const app = buildHub({ store, logger: silentLogger(), ...opts });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, app, port };
}

function identity(): Identity {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return initIdentity(join(t.dir, 'identity.key')).identity;
}

const rec = (n: number): WireRecord => makeRecord('task', 'run', { n }, 1_700_000_000_000 + n, null, 'x');

/** Every other spelling of the same signature bytes: the last character carries spare bits. */
function sameBytesVariants(header: string): string[] {
  const sig = /sig="([^"]+)"/.exec(header)![1]!;
  const bytes = Buffer.from(sig, 'base64url');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  return [...alphabet]
    .map((c) => sig.slice(0, -1) + c)
    .filter((v) => v !== sig && Buffer.from(v, 'base64url').equals(bytes))
    .map((v) => header.replace(sig, v));
}

describe.each(backends)('hub security on $name', (backend) => {
  const skip = (): boolean => backend.name === 'postgres' && !pgOk;

  it('a signature counts once: re-spelled base64url is refused, and a replay after a restart too', async (ctx) => {
    if (skip()) return ctx.skip();
    const open = backend.place();
    let store = await open();
    const id = identity();
    await store.addKey('sec/replay', id.publicKey, id.keyId);
    const clock = Math.floor(Date.now() / 1000);
    let hub = await startHub(store, { now: () => clock });
    const path = '/v1/repos/sec/replay/records';
    const body = JSON.stringify({ records: [rec(1)] });
    const post = (url: string, authorization: string) => fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body });
    const good = authorizationHeader(id.keyId, id.privateKey, 'POST', path, body, clock);
    expect((await post(hub.url, good)).status).toBe(200);
    const variants = sameBytesVariants(good);
    expect(variants.length).toBeGreaterThan(0);
    for (const v of variants) {
      const r = await post(hub.url, v);
      expect(r.status, v).toBe(401);
      expect(((await r.json()) as any).error.message).toMatch(/malformed|replay/);
    }
    // The hub restarts (same database): the captured request is still a replay.
    await hub.app.close();
    await store.close();
    store = await open();
    hub = await startHub(store, { now: () => clock });
    cleanups.push(() => hub.app.close(), () => store.close());
    const again = await post(hub.url, good);
    expect(again.status).toBe(401);
    expect(((await again.json()) as any).error.message).toMatch(/replay/);
    expect((await store.read('sec/replay', 0n, undefined, 10)).bodies).toHaveLength(1);
  });

  it('answers an unauthenticated 60 MiB push before reading its body, and caps signed bodies', async (ctx) => {
    if (skip()) return ctx.skip();
    const store = await backend.place()();
    const id = identity();
    await store.addKey('sec/body', id.publicKey, id.keyId);
    const hub = await startHub(store);
    cleanups.push(() => hub.app.close(), () => store.close());
    const huge = 60 * 1024 * 1024;
    for (const authorization of [undefined, 'Colony-Sig key="00" ts=1 sig="AA"', authorizationHeader('ffff', id.privateKey, 'POST', '/x', '')]) {
      const sent = await new Promise<{ status: number; bytesSent: number }>((resolve, reject) => {
        let bytesSent = 0;
        const req = request(
          { host: '127.0.0.1', port: hub.port, method: 'POST', path: '/v1/repos/sec/body/records', headers: { 'content-type': 'application/json', 'content-length': huge, ...(authorization ? { authorization } : {}) } },
          (res) => {
            res.resume();
            resolve({ status: res.statusCode!, bytesSent });
            req.destroy();
          },
        );
        req.on('error', (err) => (bytesSent > 0 ? undefined : reject(err)));
        const chunk = Buffer.alloc(256 * 1024, 0x20);
        const pump = (): void => {
          while (bytesSent < huge) {
            bytesSent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
      expect(sent.status).toBe(401);
      // Socket buffers hold a few MiB at most; reading the body first would mean all 60.
      expect(sent.bytesSent).toBeLessThan(16 * 1024 * 1024);
    }
    // A signed request over the cap is refused as too large, naming the limit.
    const path = '/v1/repos/sec/body/records';
    const big = JSON.stringify({ records: [makeRecord('task', 'run', { pad: 'x'.repeat(MAX_PUSH_BYTES) }, 1, null, 'x')] });
    const r = await fetch(hub.url + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: authorizationHeader(id.keyId, id.privateKey, 'POST', path, big) }, body: big });
    expect(r.status).toBe(413);
    expect(((await r.json()) as any).error.message).toMatch(/limited to \d+ bytes/);
    expect((await fetch(`${hub.url}/health`)).status).toBe(200);
  });
});

describe('hub input bounds', () => {
  it('refuses a cursor past 64 bits and a payload nested 20,000 deep with 400, and keeps serving', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const store = new SqliteHubStore(join(t.dir, 'hub.db'));
    await store.init();
    const hub = await startHub(store, { allowUnsigned: true });
    cleanups.push(() => hub.app.close());
    const r1 = await fetch(`${hub.url}/v1/repos/sec/bounds/records?since=9223372036854775808`);
    expect(r1.status).toBe(400);
    expect(((await r1.json()) as any).error.message).toMatch(/since/);
    let payload = '0';
    for (let i = 0; i < 20_000; i++) payload = `{"a":${payload}}`;
    const body = `{"records":[{"kind":"task","record_id":"${'0'.repeat(64)}","run_id":"r","payload":${payload},"created_at":1,"expires_at":null,"origin":"x"}]}`;
    const r2 = await fetch(`${hub.url}/v1/repos/sec/bounds/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(r2.status).toBe(400);
    expect(((await r2.json()) as any).error.message).toMatch(/nested deeper than/);
    expect((await fetch(`${hub.url}/health`)).status).toBe(200);
  });
});
