import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection, type Socket } from 'node:net';
import type { Daemon } from '../../src/daemon/daemon.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { makeTempRepo } from '../helpers/repo.js';

/** A raw line client on the daemon's unix socket: send text, read the next answer line. */
class LineClient {
  private buf = '';
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;
  private constructor(private readonly sock: Socket) {
    sock.on('data', (d) => {
      this.buf += d.toString();
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 1);
      }
      this.waiter?.();
    });
  }
  static connect(path: string): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const s = createConnection(path, () => resolve(new LineClient(s)));
      s.once('error', reject);
    });
  }
  send(text: string): void {
    this.sock.write(text + '\n');
  }
  async next(timeoutMs = 10_000): Promise<any> {
    const end = Date.now() + timeoutMs;
    while (!this.lines.length) {
      if (Date.now() > end) throw new Error('no answer');
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 50);
      });
    }
    return JSON.parse(this.lines.shift()!);
  }
  close(): void {
    this.sock.destroy();
  }
}

let repo: { dir: string; cleanup: () => void };
let d: Daemon;
let c: LineClient;
beforeAll(async () => {
  repo = makeTempRepo();
  d = await startTestDaemon(repo.dir);
  c = await LineClient.connect(d.socket.path);
});
afterAll(async () => {
  c.close();
  await d.close();
  repo.cleanup();
});

const ping = (id: unknown) => JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' });

describe('JSON-RPC 2.0 on the unix socket and /mcp', () => {
  it('a batch gets one array reply; notifications in it get no member', async () => {
    c.send(JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 'two', method: 'coord_check', params: { symbols: ['a.ts'] } },
      { jsonrpc: '2.0', id: 3, method: 'no_such_method' },
      42,
    ]));
    const reply = await c.next();
    expect(Array.isArray(reply)).toBe(true);
    const byId = new Map((reply as any[]).map((r) => [r.id, r]));
    expect(reply).toHaveLength(4);
    expect(byId.get(1)).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
    expect(byId.get('two').result).toEqual({ holders: [] });
    expect(byId.get(3).error.code).toBe(-32601);
    expect(byId.get(null).error.code).toBe(-32600);
    // All notifications: no reply at all; the next answer is the ping's.
    c.send(JSON.stringify([{ jsonrpc: '2.0', method: 'notifications/initialized' }]));
    c.send(ping(99));
    expect(await c.next()).toEqual({ jsonrpc: '2.0', id: 99, result: {} });
    c.send('[]');
    expect(await c.next()).toMatchObject({ id: null, error: { code: -32600 } });
  });

  it('a notification gets no reply; a request with an id always gets a result or an error', async () => {
    c.send(JSON.stringify({ jsonrpc: '2.0', method: 'coord_check', params: { symbols: ['x'] } }));
    c.send(JSON.stringify({ jsonrpc: '2.0', method: 'memory_store', params: { bad: true } }));
    c.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'notifications/initialized' }));
    const r = await c.next();
    expect(r).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: -32600 } });
    c.send(ping(8));
    expect(await c.next()).toEqual({ jsonrpc: '2.0', id: 8, result: {} });
  });

  it('ids that are not strings or integers are refused alike on the socket and on /mcp', async () => {
    for (const id of [1.5, null, true, { a: 1 }, [1], 'x'.repeat(201)]) {
      c.send(ping(id));
      const viaSocket = await c.next();
      expect(viaSocket, JSON.stringify(id)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringMatching(/^id: /) } });
      const res = await fetch(`${d.url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: ping(id),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual(viaSocket);
    }
    c.send(ping('ok'));
    expect(await c.next()).toEqual({ jsonrpc: '2.0', id: 'ok', result: {} });
  });
});
