import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import type { Daemon } from '../../src/daemon/daemon.js';
import { startTestDaemon, TEST_TOKEN } from '../helpers/daemon.js';
import { makeTempRepo } from '../helpers/repo.js';

let d: Daemon;
let port: number;
let cleanup: () => void;
beforeAll(async () => {
  const repo = makeTempRepo();
  cleanup = repo.cleanup;
  d = await startTestDaemon(repo.dir, { allowed_origins: ['https://tools.example.com'] });
  port = Number(new URL(d.url).port);
});
afterAll(async () => {
  await d.close();
  cleanup();
});

/** A raw HTTP request: fetch will not let a test set Host. */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { authorization: `Bearer ${TEST_TOKEN}`, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const mcpInit = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('Origin and Host checks (DNS rebinding)', () => {
  it('refuses a foreign Origin on /mcp and the API with 403, before auth', async () => {
    const own = `127.0.0.1:${port}`;
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${port + 1}`, `https://127.0.0.1:${port}`]) {
      const mcp = await send('POST', '/mcp', { ...mcpHeaders, host: own, origin }, mcpInit);
      expect(mcp.status, origin).toBe(403);
      expect(JSON.parse(mcp.body).error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/Origin .* is not allowed/) });
      expect((await send('GET', '/jobs', { host: own, origin })).status).toBe(403);
      expect((await send('GET', '/jobs', { host: own, origin, authorization: 'Bearer wrong' })).status).toBe(403);
    }
  });

  it('refuses a Host that is not this daemon (a rebound DNS name) with 403', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, `127.0.0.2:${port}`]) {
      const r = await send('GET', '/health', { host });
      expect(r.status, host).toBe(403);
      expect(JSON.parse(r.body).error.message).toMatch(/Host .* is not this daemon/);
      expect((await send('POST', '/mcp', { ...mcpHeaders, host }, mcpInit)).status).toBe(403);
    }
  });

  it('lets through clients without Origin, the daemon\'s own origin, and allowed_origins', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      expect((await send('GET', '/jobs', { host })).status).toBe(200);
      expect((await send('GET', '/jobs', { host, origin: `http://${host}` })).status).toBe(200);
      expect((await send('POST', '/mcp', { ...mcpHeaders, host }, mcpInit)).status).toBe(200);
    }
    expect((await send('GET', '/jobs', { host: `127.0.0.1:${port}`, origin: 'https://tools.example.com' })).status).toBe(200);
    expect((await send('POST', '/mcp', { ...mcpHeaders, host: `127.0.0.1:${port}`, origin: 'https://tools.example.com' }, mcpInit)).status).toBe(200);
    // A plain fetch from Node (no Origin) is what the CLI and SDKs send.
    expect((await fetch(`${d.url}/jobs`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })).status).toBe(200);
  });

  it('serves the dashboard with a Content-Security-Policy and X-Frame-Options: DENY', async () => {
    for (const path of ['/', '/ui/app.js']) {
      const r = await fetch(`${d.url}${path}`);
      expect(r.status).toBe(200);
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('content-security-policy')).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    }
  });
});
