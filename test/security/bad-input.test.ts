import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { int64Text, tooDeepAt } from '../../src/lib/validate.js';
import { api, startTestDaemon } from '../helpers/daemon.js';
import { makeTempRepo } from '../helpers/repo.js';

/** `{"a":{"a":…}}` nested `depth` levels, as JSON text (built without recursion). */
function nestedObject(depth: number, leaf = '1'): string {
  return '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
}
const nestedArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

let repo: { dir: string; cleanup: () => void };
let d: Daemon;
beforeAll(async () => {
  repo = makeTempRepo();
  d = await startTestDaemon(repo.dir, { max_concurrency: 1, max_queue_depth: 1000 });
});
afterAll(async () => {
  await d.close();
  repo.cleanup();
});

async function raw(method: string, path: string, body: string): Promise<{ status: number; body: any }> {
  const res = await fetch(d.url + path, { method, headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' }, body });
  return { status: res.status, body: await res.json() };
}

describe('deep or out-of-range input is a 400 naming the field, never a 500', () => {
  it('metadata nested 5,000 and 100,000 deep', async () => {
    for (const depth of [5000, 100_000]) {
      const r = await raw('POST', '/execute', `{"prompt":"hi","metadata":${nestedObject(depth)}}`);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error.message).toMatch(/^metadata: nested deeper than 64 levels/);
    }
    // Within the body bound but beyond metadata's own.
    const r = await raw('POST', '/execute', `{"prompt":"hi","metadata":${nestedObject(20)}}`);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/metadata: nested deeper than 16 levels/);
    const chat = await raw('POST', '/v1/chat/completions', `{"model":"claude","messages":[{"role":"user","content":"x"}],"metadata":${nestedObject(5000)}}`);
    expect(chat.status).toBe(400);
    expect(JSON.stringify(chat.body)).toMatch(/metadata/);
  });

  it('payloads nested 20,000 deep on every kind of route', async () => {
    const cases: [string, string, string, RegExp][] = [
      ['POST', '/coord/reserve', `{"run_id":"r","symbols":${nestedArray(20_000)}}`, /^symbols: nested deeper/],
      ['POST', '/memory/import', `{"memories":[{"text":"x","tags":${nestedArray(20_000)}}]}`, /^memories: nested deeper/],
      ['POST', '/memory/store', nestedObject(20_000), /^a: nested deeper/],
      ['POST', '/mcp', `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":${nestedObject(20_000)}}`, /^params: nested deeper/],
    ];
    for (const [method, path, body, message] of cases) {
      const r = await raw(method, path, body);
      expect(r.status, `${path}: ${JSON.stringify(r.body)}`).toBe(400);
      expect(r.body.error.message).toMatch(message);
    }
    expect((await api(d.url, 'GET', '/health')).status).toBe(200);
  });

  it('numbers out of range in queries', async () => {
    for (const q of ['limit=9223372036854775808', 'limit=1e400', 'limit=-1', 'cursor=9223372036854775808', 'cursor=1e999']) {
      const r = await api(d.url, 'GET', `/jobs?${q}`);
      expect([200, 400], `${q}: ${r.status}`).toContain(r.status);
      if (r.status === 400) expect(r.body.error.message).toMatch(q.startsWith('limit') ? /limit/ : /cursor/);
    }
    expect((await api(d.url, 'GET', '/coord/records?after=99999999999999999.' + 'a'.repeat(64))).status).toBe(400);
    expect((await api(d.url, 'GET', '/tasks?limit=9223372036854775808')).status).toBe(400);
  });

  it('the shared validators: iterative depth check, 64-bit decimal text', () => {
    expect(tooDeepAt(JSON.parse(nestedArray(200_000)), 64)).toMatch(/^0\.0\.0\.0\.…/);
    expect(tooDeepAt({ a: [{ b: 1 }] }, 3)).toBeUndefined();
    expect(tooDeepAt({ a: [{ b: {} }] }, 3)).toBe('a.0.b');
    expect(int64Text.safeParse('9223372036854775807').success).toBe(true);
    const r = int64Text.safeParse('9223372036854775808');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/at most 9223372036854775807/);
    expect(int64Text.safeParse('-1').success).toBe(false);
  });
});
