import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { api, startTestDaemon } from '../helpers/daemon.js';
import { makeTempRepo } from '../helpers/repo.js';

let repo: { dir: string; cleanup: () => void };
let d: Daemon;
beforeAll(async () => {
  repo = makeTempRepo();
  // A configured agent whose binary is missing: jobs fail at once, nothing runs.
  d = await startTestDaemon(repo.dir, { max_concurrency: 1, max_queue_depth: 1000, max_metadata_bytes: 1024 * 1024, default_agent: 'missing' });
});
afterAll(async () => {
  await d.close();
  repo.cleanup();
});

async function listAll(query: string): Promise<{ pages: number; ids: string[]; biggest: number }> {
  let cursor: string | null = null;
  const ids: string[] = [];
  let pages = 0;
  let biggest = 0;
  do {
    const res = await fetch(`${d.url}/jobs?${query}${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${d.token}` } });
    const text = await res.text();
    biggest = Math.max(biggest, text.length);
    const body = JSON.parse(text);
    for (const j of body.jobs) {
      expect(j).not.toHaveProperty('metadata');
      ids.push(j.id);
    }
    cursor = body.next_cursor;
    pages++;
  } while (cursor);
  return { pages, ids, biggest };
}

describe('heavy listings stay small', () => {
  it('leaves metadata out of GET /jobs (full on GET /jobs/:id) and caps a page by size, not only by count', async () => {
    const big = { blob: 'm'.repeat(900 * 1024) };
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await api(d.url, 'POST', '/execute', { prompt: i < 6 ? `job ${i}` : 'p'.repeat(900 * 1024), metadata: { ...big, i } });
      expect(r.status).toBe(202);
      ids.push(r.body.job_id);
    }
    const one = await api(d.url, 'GET', `/jobs/${ids[0]}`);
    expect(one.body.metadata).toEqual({ ...big, i: 0 });
    // 12 jobs with 900 KB of metadata each (and six with 900 KB prompts): every job once,
    // pages of a few MiB at most instead of one of 14 MiB.
    const all = await listAll('limit=1000');
    expect(new Set(all.ids)).toEqual(new Set(ids));
    expect(all.ids).toHaveLength(12);
    expect(all.pages).toBeGreaterThan(1);
    expect(all.biggest).toBeLessThan(5 * 1024 * 1024);
    // Small jobs come in one page of their own size.
    const small = await fetch(`${d.url}/jobs?limit=8&status=failed`, { headers: { authorization: `Bearer ${d.token}` } });
    expect(small.status).toBe(200);
  });

  it('refuses metadata above max_metadata_bytes (16 KiB by default) with a 400 naming the field', async () => {
    const r2 = makeTempRepo();
    const d2 = await startTestDaemon(r2.dir);
    try {
      const r = await api(d2.url, 'POST', '/execute', { prompt: 'x', metadata: { blob: 'm'.repeat(17 * 1024) } });
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(/^metadata: \d+ bytes of JSON, more than the 16384 allowed/);
    } finally {
      await d2.close();
      r2.cleanup();
    }
  });
});
