import { describe, expect, it } from 'vitest';
import { api } from '../helpers/daemon.js';
import { cancelledSwarms, useSwarmDaemon } from './helpers.js';

const { setup } = useSwarmDaemon();

describe('GET /swarms', { timeout: 60_000 }, () => {
  it('pages past `limit` by cursor, newest first, every swarm once, and refuses a bad cursor', async () => {
    const { d } = await setup();
    const ids = await cancelledSwarms(d, 5);
    const seen: string[] = [];
    const cursors: (string | null)[] = [];
    let cursor: string | null = null;
    do {
      const after: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const r = await api(d.url, 'GET', `/swarms?limit=2${after}`);
      expect(r.status).toBe(200);
      expect(r.body.swarms.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.swarms.map((s: { swarm_id: string }) => s.swarm_id));
      cursor = r.body.next_cursor;
      cursors.push(cursor);
    } while (cursor);
    expect(seen).toEqual(ids);
    // Two full pages with a cursor each, then the last one says there is no more.
    expect(cursors.map((c) => typeof c)).toEqual(['string', 'string', 'object']);
    // A page that exactly ends the list has no cursor either.
    expect((await api(d.url, 'GET', '/swarms?limit=5')).body.next_cursor).toBeNull();

    for (const bad of ['abc', '-1', '1.5', 'x'.repeat(41)]) {
      const r = await api(d.url, 'GET', `/swarms?cursor=${encodeURIComponent(bad)}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.error.message, bad).toMatch(/cursor/);
    }
  });
});
