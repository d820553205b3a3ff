import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createConnection, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Daemon } from '../../src/daemon/daemon.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { makeTempRepo } from '../helpers/repo.js';

// Property-based fuzzing of every HTTP route and every socket method with a fixed seed and
// a bounded number of runs: whatever the input, the answer is a 2xx or a 4xx with
// {error: {code, message}} (a JSON-RPC result or error on the socket), never a 500 or an
// internal error, and the daemon still answers /health and ping after each batch.
const SEED = 20261202;
const RUNS_PER_ROUTE = 25;
const RUNS_PER_METHOD = 30;

/** Every (method, url) the app serves, read from its route tree. */
function routesOf(app: FastifyInstance): [string, string][] {
  const out: [string, string][] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line);
    if (!m) continue;
    stack.length = m[1]!.length / 4;
    stack.push(m[2]!);
    for (const method of m[3]?.split(', ') ?? []) if (method !== 'HEAD' && method !== 'OPTIONS') out.push([method, stack.join('')]);
  }
  return out;
}

const FIELD_NAMES = [
  'prompt', 'agent', 'model', 'timeout_s', 'base_ref', 'metadata', 'text', 'tags', 'scope', 'source', 'cue', 'budget_tokens', 'k',
  'id', 'run_id', 'symbols', 'ttl_seconds', 'mode', 'reservation_id', 'operation', 'target', 'description', 'priority', 'depends_on',
  'task_id', 'limit', 'cursor', 'memories', 'dry_run', 'grace_seconds', 'messages', 'stream', 'status', 'kinds', 'after', 'since',
  'jsonrpc', 'method', 'params', 'name', 'arguments', 'created_at', '__proto__', 'constructor', 'last_event_id',
];
const NASTY = [
  9223372036854775808, 1e308, -1e308, -1, 0, 1.5, 2 ** 53 + 1, '', ' ', '\u0000', '../../../etc/passwd', '/etc/passwd', '-rf', '--upload-pack=x',
  '${HOME}', '$(id)', '\u202e', 'a'.repeat(5000), '9223372036854775808', '-9223372036854775809', '1e400', 'NaN', '[]', '{}', 'null',
  'src/**/*.ts', '**', 'HEAD~1', 'refs/heads/../x', '🙂', 'claude', 'sonnet', 'repo', 'exclusive',
];
const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 200 }),
  fc.array(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom(...NASTY)), { maxLength: 12 }),
);
const object = fc.dictionary(fc.constantFrom(...FIELD_NAMES), value, { maxKeys: 6 });
const deep = fc.tuple(fc.integer({ min: 60, max: 30_000 }), fc.boolean()).map(([n, arr]) => (arr ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n)));
/** Request bodies as text: JSON objects and values, deep nesting, and text that is not JSON. */
const bodyText = fc.oneof(
  { weight: 5, arbitrary: object.map((o) => JSON.stringify(o)) },
  { weight: 2, arbitrary: value.map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: deep.map((d) => `{"metadata":${d},"params":${d}}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
);
const queryString = fc
  .dictionary(fc.constantFrom(...FIELD_NAMES), fc.oneof(fc.constantFrom(...NASTY).map(String), fc.string({ maxLength: 40 })), { maxKeys: 4 })
  .map((q) => new URLSearchParams(q as Record<string, string>).toString());
const pathParam = fc.oneof(fc.string({ minLength: 1, maxLength: 60 }), fc.constantFrom('..', '%2e%2e', 'job_0', '../../token', 'a'.repeat(500))).map(encodeURIComponent);

let repo: { dir: string; cleanup: () => void };
let d: Daemon;
beforeAll(async () => {
  repo = makeTempRepo();
  // Jobs that pass validation fail at once: their agent binary does not exist.
  const missing = { type: 'claude', bin: 'colony-no-such-agent-binary', models: ['sonnet'] };
  d = await startTestDaemon(repo.dir, { agents: { claude: missing }, default_agent: 'claude', max_concurrency: 2, max_queue_depth: 5000 });
});
afterAll(async () => {
  await d?.close();
  repo?.cleanup();
});

async function health(): Promise<void> {
  const r = await fetch(`${d.url}/health`, { signal: AbortSignal.timeout(15_000) });
  expect(r.status).toBe(200);
}

describe('fuzz: every HTTP route and socket method', () => {
  it('HTTP: no input gives a 500; 4xx answers carry {error: {code, message}}; /health answers after each route', async () => {
    const routes = routesOf(d.app);
    expect(routes.length).toBeGreaterThan(30);
    const counts = { requests: 0, ok: 0, client_errors: 0 };
    for (const [method, url] of routes) {
      const streams = url.endsWith('/events') || url === '/v1/chat/completions';
      await fc.assert(
        fc.asyncProperty(fc.tuple(pathParam, queryString, bodyText), async ([param, query, body]) => {
          const path = url.replace(/:[a-z_]+/g, param) + (query ? `?${query}` : '');
          const res = await fetch(d.url + path, {
            method,
            headers: {
              authorization: `Bearer ${d.token}`,
              accept: 'application/json, text/event-stream',
              ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
            },
            body: method === 'POST' ? body : undefined,
            signal: AbortSignal.timeout(30_000),
          });
          // Streams of accepted chat jobs end when the (failing) job ends.
          const text = streams && res.status < 300 ? '' : await res.text();
          if (streams && res.status < 300) await res.body?.cancel();
          counts.requests++;
          if (res.status >= 500) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 300)}\nbody: ${body.slice(0, 300)}`);
          if (res.status >= 400) {
            counts.client_errors++;
            const parsed = JSON.parse(text);
            if (url === '/mcp' && parsed.jsonrpc) expect(parsed.error.code).not.toBe(-32603);
            else expect(parsed.error, `${method} ${path}`).toMatchObject({ code: expect.any(String), message: expect.any(String) });
          } else counts.ok++;
        }),
        { seed: SEED, numRuns: RUNS_PER_ROUTE, endOnFailure: true },
      );
      await health();
    }
    console.log(`fuzz HTTP: ${counts.requests} requests over ${routes.length} routes (${counts.ok} 2xx/3xx, ${counts.client_errors} 4xx, 0 5xx), seed ${SEED}`);
  }, 300_000);

  it('socket: every method answers a result or a JSON-RPC error, never an internal error; ping answers after each method', async () => {
    const c = await SocketClient.connect(d.socket.path);
    try {
      const methods = [...d.tools.keys(), 'initialize', 'ping', 'tools/list', 'tools/call', 'colony/session', 'no/such/method'];
      const counts = { calls: 0, results: 0, errors: 0, raw: 0 };
      let nextId = 1;
      for (const method of methods) {
        await fc.assert(
          fc.asyncProperty(fc.oneof(object, value, object.map((o) => ({ name: method, arguments: o }))), async (params) => {
            const id = nextId++;
            const reply = await c.call({ jsonrpc: '2.0', id, method, params });
            counts.calls++;
            if ('error' in reply) {
              counts.errors++;
              expect(reply.error.code, `${method} ${JSON.stringify(params).slice(0, 200)}: ${reply.error.message}`).not.toBe(-32603);
            } else {
              expect(reply).toHaveProperty('result');
              counts.results++;
            }
          }),
          { seed: SEED, numRuns: RUNS_PER_METHOD, endOnFailure: true },
        );
        expect((await c.call({ jsonrpc: '2.0', id: nextId++, method: 'ping' })).result).toEqual({});
      }
      // Lines that are not requests at all: garbage, batches, deep nesting, bad ids.
      const rawLine = fc.oneof(
        fc.string({ maxLength: 200 }).map((s) => s.replace(/\n/g, ' ')),
        fc.array(fc.oneof(object, value), { maxLength: 5 }).map((a) => JSON.stringify(a)),
        deep,
        value.map((id) => JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }) ?? 'null'),
      );
      await fc.assert(
        fc.asyncProperty(rawLine, async (line) => {
          c.sendRaw(line);
          counts.raw++;
          const id = nextId++;
          const pong = await c.call({ jsonrpc: '2.0', id, method: 'ping' });
          expect(pong.result).toEqual({});
          for (const r of c.drainOthers()) expect(JSON.stringify(r)).not.toContain('-32603');
        }),
        { seed: SEED, numRuns: 150, endOnFailure: true },
      );
      await health();
      console.log(`fuzz socket: ${counts.calls} calls over ${methods.length} methods (${counts.results} results, ${counts.errors} JSON-RPC errors, 0 internal), ${counts.raw} raw lines, seed ${SEED}`);
    } finally {
      c.close();
    }
  }, 300_000);
});

/** Newline-delimited JSON-RPC over the unix socket, matching answers by id. */
class SocketClient {
  private buf = '';
  private readonly waiting = new Map<number, (r: any) => void>();
  private others: unknown[] = [];
  private constructor(private readonly sock: Socket) {
    sock.on('data', (data) => {
      this.buf += data.toString();
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 1);
        const w = !Array.isArray(msg) && typeof msg.id === 'number' ? this.waiting.get(msg.id) : undefined;
        if (w) {
          this.waiting.delete(msg.id);
          w(msg);
        } else this.others.push(msg);
      }
    });
  }
  static connect(path: string): Promise<SocketClient> {
    return new Promise((resolve, reject) => {
      const s = createConnection(path, () => resolve(new SocketClient(s)));
      s.once('error', reject);
    });
  }
  call(msg: { id: number; [k: string]: unknown }): Promise<any> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${JSON.stringify(msg).slice(0, 200)}`)), 30_000);
      this.waiting.set(msg.id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.sock.write(JSON.stringify(msg) + '\n');
    });
  }
  sendRaw(line: string): void {
    this.sock.write(line + '\n');
  }
  drainOthers(): unknown[] {
    const o = this.others;
    this.others = [];
    return o;
  }
  close(): void {
    this.sock.destroy();
  }
}
