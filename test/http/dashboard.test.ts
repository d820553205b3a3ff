// The HTTP side of the dashboard: its assets, the public favicon, POSTs without a body, and
// the daemon-wide event stream. The browser itself is in test/browser/.
import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { readSse, type SseMessage } from '../../src/cli/sse-client.js';
import { api, startTestDaemon, TEST_TOKEN, waitJob } from '../helpers/daemon.js';
import { makeTempRepo } from '../helpers/repo.js';

let d: Daemon;
let cleanup: () => void;
beforeAll(async () => {
  const repo = makeTempRepo();
  cleanup = repo.cleanup;
  d = await startTestDaemon(repo.dir);
});
afterAll(async () => {
  await d.close();
  cleanup();
});

function rawStatus(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(d.url + '/', { path }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    }).on('error', reject);
  });
}

const auth = { authorization: `Bearer ${TEST_TOKEN}` };

/** Events of `GET /events` until `until` says stop (the stream itself never ends). */
async function collect(until: (seen: SseMessage[]) => boolean, during?: () => Promise<void>): Promise<SseMessage[]> {
  const ctrl = new AbortController();
  const res = await fetch(`${d.url}/events`, { headers: auth, signal: ctrl.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const seen: SseMessage[] = [];
  const started = during?.();
  try {
    for await (const m of readSse(res.body!)) {
      seen.push(m);
      if (until(seen)) break;
    }
  } finally {
    ctrl.abort();
  }
  await started;
  return seen;
}

describe('dashboard over HTTP', () => {
  it('serves the shell, its modules and the UI libraries without a token, and nothing else under /ui', async () => {
    const index = await fetch(`${d.url}/`);
    expect(index.status).toBe(200);
    const html = await index.text();
    expect(html).toContain('<script type="importmap">');
    for (const path of ['/ui/app.js', '/ui/views/jobs.js', '/ui/views/swarm.js', '/ui/lib/api.js', '/ui/vendor/preact.mjs', '/ui/vendor/hooks.mjs', '/ui/vendor/htm.mjs', '/ui/vendor/yaml/index.js', '/ui/vendor/yaml/parse/lexer.js']) {
      const res = await fetch(d.url + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(/^text\/javascript/);
    }
    expect((await fetch(`${d.url}/ui/style.css`)).headers.get('content-type')).toMatch(/^text\/css/);
    for (const path of ['/ui/index.html', '/ui/nope.js', '/ui/vendor/preact.mjs.map']) expect((await fetch(d.url + path)).status, path).toBe(404);
    // Sent as written (fetch would normalise the dots away): still only the preloaded names.
    for (const path of ['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/..%2fpackage.json']) expect(await rawStatus(path), path).toBe(404);
  });

  it('answers /favicon.ico with an icon, without a token', async () => {
    const res = await fetch(`${d.url}/favicon.ico`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/svg+xml');
    expect(await res.text()).toMatch(/^<svg/);
  });

  it('accepts a POST that declares a JSON body and sends none, and still refuses broken JSON', async () => {
    const { body } = await api(d.url, 'POST', '/execute', { prompt: '[sleep:20000]' });
    const cancel = await fetch(`${d.url}/jobs/${body.job_id}/cancel`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' } });
    expect(cancel.status).toBe(200);
    expect(((await cancel.json()) as any).job_id).toBe(body.job_id);
    expect((await waitJob(d.url, body.job_id)).status).toBe('cancelled');
    const stats = await fetch(`${d.url}/memory/stats`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' } });
    expect(stats.status).toBe(200);
    const broken = await fetch(`${d.url}/memory/stats`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{' });
    expect(broken.status).toBe(400);
    const poisoned = await fetch(`${d.url}/memory/stats`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"__proto__": {"x": 1}}' });
    expect(poisoned.status).toBe(400);
  });

  it('GET /events needs the token', async () => {
    expect((await fetch(`${d.url}/events`)).status).toBe(401);
  });

  it('GET /events says hello with the features, then the current reservations, memory and slots', async () => {
    const seen = await collect((s) => ['reservations', 'memory', 'runner', 'land'].every((e) => s.some((m) => m.event === e)));
    expect(seen[0]!.event).toBe('hello');
    const hello = JSON.parse(seen[0]!.data);
    expect(hello.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(hello.features).toEqual({ merge_queue: expect.any(Boolean), swarms: expect.any(Boolean), memory_explain: expect.any(Boolean) });
    const memory = JSON.parse(seen.find((m) => m.event === 'memory')!.data);
    expect(memory).toMatchObject({ memories: expect.any(Number), embedder: expect.any(String) });
    expect(JSON.parse(seen.find((m) => m.event === 'runner')!.data)).toMatchObject({ active: expect.any(Number), capacity: 10 });
    expect(JSON.parse(seen.find((m) => m.event === 'land')!.data)).toEqual({ target: 'main', blocked: null, entries: expect.any(Array) });
  });

  it('GET /events sends the merge queue as each entry moves, up to landed', async () => {
    let jobId = '';
    const entryOf = (m: SseMessage) => (m.event === 'land' ? (JSON.parse(m.data).entries as { job_id: string; status: string }[]).find((e) => e.job_id === jobId) : undefined);
    const seen = await collect(
      (s) => s.some((m) => entryOf(m)?.status === 'landed'),
      async () => {
        jobId = (await api(d.url, 'POST', '/execute', { prompt: '[edit:landed.txt]', land: true })).body.job_id;
      },
    );
    // Every state it passed through was sent, not only the last.
    const statuses = [...new Set(seen.map(entryOf).filter((e) => e !== undefined).map((e) => e.status))];
    expect(statuses[0]).toMatch(/^(queued|testing)$/);
    expect(statuses.at(-1)).toBe('landed');
  });

  it('GET /events streams every job transition and changed reservations as they happen', async () => {
    let jobId = '';
    const seen = await collect(
      (s) =>
        s.some((m) => m.event === 'job' && JSON.parse(m.data).job_id === jobId && JSON.parse(m.data).status === 'completed') &&
        s.some((m) => m.event === 'reservations' && m.data.includes('src/feed.ts')),
      async () => {
        jobId = (await api(d.url, 'POST', '/execute', { prompt: 'hello' })).body.job_id;
        expect((await api(d.url, 'POST', '/coord/reserve', { run_id: 'feed-run', symbols: ['src/feed.ts'] })).body.granted).toBe(true);
      },
    );
    const statuses = seen.filter((m) => m.event === 'job' && JSON.parse(m.data).job_id === jobId).map((m) => JSON.parse(m.data).status);
    expect(statuses).toEqual(['queued', 'preparing', 'running', 'completed']);
    const reservations = JSON.parse(seen.filter((m) => m.event === 'reservations').at(-1)!.data).reservations;
    expect(reservations).toContainEqual(expect.objectContaining({ run_id: 'feed-run', symbols: ['src/feed.ts'] }));
  });
});
