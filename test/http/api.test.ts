import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { api, startTestDaemon, waitJob, TEST_TOKEN } from '../helpers/daemon.js';
import { makeTempRepo } from '../helpers/repo.js';
import { readSse } from '../../src/cli/sse-client.js';

let d: Daemon;
let cleanup: () => void;
beforeAll(async () => {
  const repo = makeTempRepo();
  cleanup = repo.cleanup;
  d = await startTestDaemon(repo.dir, { max_prompt_bytes: 1000 });
});
afterAll(async () => {
  await d.close();
  cleanup();
});

describe('HTTP API', () => {
  it('answers /health without a token, with every field', async () => {
    const res = await fetch(`${d.url}/health`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({
      status: 'ok',
      busy: false,
      active: 0,
      queued: 0,
      in_flight: 0,
      capacity: 10,
      max_queue_depth: 100,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
  });

  it('refuses every other route without the right bearer token, with a JSON error', async () => {
    for (const [path, method] of [
      ['/jobs', 'GET'],
      ['/execute', 'POST'],
      ['/v1/models', 'GET'],
      ['/metrics', 'GET'],
    ] as const) {
      const none = await fetch(d.url + path, { method });
      expect(none.status).toBe(401);
      expect(((await none.json()) as any).error.code).toBe('unauthorized');
      const wrong = await api(d.url, method, path, undefined, 'wrong-token');
      expect(wrong.status).toBe(401);
    }
    expect((await api(d.url, 'GET', '/jobs', undefined, TEST_TOKEN)).status).toBe(200);
  });

  it('rejects bad input with 400 naming the fields, 404 for unknown jobs, 413 for huge prompts', async () => {
    const bad = await api(d.url, 'POST', '/execute', { prompt: '', timeout_s: -3 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_input');
    expect(bad.body.error.message).toMatch(/prompt/);
    expect(bad.body.error.message).toMatch(/timeout_s/);
    expect((await api(d.url, 'POST', '/execute', { prompt: 'x', base_ref: '--upload-pack=evil' })).status).toBe(400);
    expect((await api(d.url, 'POST', '/execute', { prompt: 'x', surprise: 1 })).status).toBe(400);
    const notJson = await fetch(`${d.url}/execute`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as any).error).toBeDefined();
    expect((await api(d.url, 'GET', '/jobs/job_nope')).status).toBe(404);
    expect((await api(d.url, 'POST', '/jobs/job_nope/cancel')).status).toBe(404);
    expect((await api(d.url, 'GET', '/jobs?status=bogus')).status).toBe(400);
    expect((await api(d.url, 'GET', '/jobs?cursor=abc')).status).toBe(400);
    const huge = await api(d.url, 'POST', '/execute', { prompt: 'x'.repeat(1001) });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('payload_too_large');
    // Still serving.
    expect((await fetch(`${d.url}/health`)).status).toBe(200);
  });

  it('refuses an unknown agent listing the configured ones, and fails a job whose binary is missing', async () => {
    const r = await api(d.url, 'POST', '/execute', { prompt: 'x', agent: 'ghost' });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/unknown agent 'ghost'.*claude.*codex.*missing/);
    const id = (await api(d.url, 'POST', '/execute', { prompt: 'x', agent: 'missing' })).body.job_id;
    const j = await waitJob(d.url, id);
    expect(j.status).toBe('failed');
    expect(j.error).toBe("agent binary 'colony-no-such-agent-binary' not found on PATH");
  });

  it('reports a failing agent as failed with its exit code and stderr', async () => {
    const id = (await api(d.url, 'POST', '/execute', { prompt: 'x [stderr:kaboom] [exit:3]' })).body.job_id;
    const j = await waitJob(d.url, id);
    expect(j).toMatchObject({ status: 'failed', exit_code: 3 });
    expect(j.error).toMatch(/code 3.*kaboom/s);
  });

  it('runs the codex adapter through its CLI format', async () => {
    const id = (await api(d.url, 'POST', '/execute', { prompt: 'refactor', agent: 'codex' })).body.job_id;
    const j = await waitJob(d.url, id);
    expect(j).toMatchObject({ status: 'completed', result: 'codex did: refactor', agent: 'codex' });
    expect(j.usage).toMatchObject({ input_tokens: 20, output_tokens: 9 });
  });

  it('lists jobs newest first with a cursor', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await api(d.url, 'POST', '/execute', { prompt: `list ${i}` })).body.job_id);
    await Promise.all(ids.map((id) => waitJob(d.url, id)));
    const p1 = await api(d.url, 'GET', '/jobs?limit=2');
    expect(p1.body.jobs.map((j: any) => j.id)).toEqual([ids[2], ids[1]]);
    const p2 = await api(d.url, 'GET', `/jobs?limit=2&cursor=${p1.body.next_cursor}`);
    expect(p2.body.jobs[0].id).toBe(ids[0]);
    const completed = await api(d.url, 'GET', '/jobs?status=completed&limit=100');
    expect(completed.body.jobs.every((j: any) => j.status === 'completed')).toBe(true);
  });

  it('streams job events over SSE and replays after Last-Event-ID', async () => {
    const id = (await api(d.url, 'POST', '/execute', { prompt: 'events please' })).body.job_id;
    const read = async (lastId?: string): Promise<{ id?: string; event?: string; data: any }[]> => {
      const res = await fetch(`${d.url}/jobs/${id}/events`, {
        headers: { authorization: `Bearer ${TEST_TOKEN}`, ...(lastId ? { 'last-event-id': lastId } : {}) },
      });
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const out = [];
      for await (const m of readSse(res.body!)) out.push({ ...m, data: JSON.parse(m.data) });
      return out;
    };
    const all = await read();
    const statuses = all.filter((e) => e.event === 'status').map((e) => e.data.data.status);
    expect(statuses).toEqual(['queued', 'preparing', 'running', 'completed']);
    expect(all.some((e) => e.event === 'agent' && e.data.data.type === 'text')).toBe(true);
    expect(all.some((e) => e.event === 'agent' && e.data.data.type === 'result')).toBe(true);
    const mid = all[2]!.id!;
    const rest = await read(mid);
    expect(rest.map((e) => e.id)).toEqual(all.slice(3).map((e) => e.id));
  });

  it('serves Prometheus metrics and the dashboard shell', async () => {
    const m = await fetch(`${d.url}/metrics`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    const text = await m.text();
    expect(text).toMatch(/^colony_jobs_queued 0$/m);
    expect(text).toMatch(/colony_jobs_finished_total\{status="completed"\} \d+/);
    const page = await fetch(`${d.url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<title>Colony</title>');
    expect((await fetch(`${d.url}/ui/app.js`)).status).toBe(200);
    expect((await fetch(`${d.url}/ui/../package.json`)).status).not.toBe(200);
  });
});
