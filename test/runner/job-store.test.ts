import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/lib/sqlite.js';
import { colonyMigrations } from '../../src/daemon/migrations.js';
import { JobStore, type NewJob } from '../../src/runner/job-store.js';
import { tempDir } from '../helpers/repo.js';

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

function open(): { db: Db; store: JobStore; file: string } {
  const t = tempDir();
  const file = join(t.dir, 'colony.db');
  const db = openDatabase(file, { migrations: colonyMigrations });
  cleanup.push(() => {
    if (db.open) db.close();
    t.cleanup();
  });
  return { db, store: new JobStore(db), file };
}

const job = (id: string, created_at: number): NewJob => ({
  id,
  agent: 'claude',
  model: null,
  permissions: 'edit',
  prompt: `prompt ${id}`,
  timeout_s: 60,
  base_ref: null,
  metadata: { n: 1 },
  source: 'execute',
  created_at,
});

describe('JobStore', () => {
  it('stores, updates and reads jobs back with ISO times and JSON fields', () => {
    const { store } = open();
    store.insert(job('a', 1000));
    store.update('a', { status: 'completed', finished_at: 2000, diff_stat: { files: 1, insertions: 2, deletions: 0 }, commits: ['x'] });
    const a = store.get('a')!;
    expect(a.status).toBe('completed');
    expect(a.created_at).toBe(new Date(1000).toISOString());
    expect(a.diff_stat).toEqual({ files: 1, insertions: 2, deletions: 0 });
    expect(a.metadata).toEqual({ n: 1 });
    expect(store.get('nope')).toBeUndefined();
  });

  it('lists newest first with a cursor and a status filter', () => {
    const { store } = open();
    for (let i = 0; i < 5; i++) store.insert(job(`j${i}`, i));
    store.update('j1', { status: 'running' });
    const p1 = store.list({ limit: 2 });
    expect(p1.jobs.map((j) => j.id)).toEqual(['j4', 'j3']);
    const p2 = store.list({ limit: 2, cursor: Number(p1.next_cursor) });
    expect(p2.jobs.map((j) => j.id)).toEqual(['j2', 'j1']);
    const p3 = store.list({ limit: 2, cursor: Number(p2.next_cursor) });
    expect(p3.jobs.map((j) => j.id)).toEqual(['j0']);
    expect(p3.next_cursor).toBeNull();
    expect(store.list({ limit: 10, status: 'running' }).jobs.map((j) => j.id)).toEqual(['j1']);
  });

  it('after a crash: running jobs become failed/interrupted, queued ones keep their order, across a reopen', () => {
    const { db, store, file } = open();
    for (let i = 0; i < 4; i++) store.insert(job(`j${i}`, i));
    store.update('j0', { status: 'running', pgid: 4242 });
    store.update('j2', { status: 'preparing' });
    db.close();
    const reopened = new JobStore(openDatabase(file, { migrations: colonyMigrations }));
    // The process groups of interrupted jobs survive the crash, for the next start to end.
    expect(reopened.leftoverGroups()).toEqual([{ id: 'j0', pgid: 4242 }]);
    expect(reopened.markInterrupted(99)).toBe(2);
    expect(reopened.leftoverGroups()).toEqual([]);
    expect(reopened.get('j0')).toMatchObject({ status: 'failed', error: 'interrupted' });
    expect(reopened.queuedInOrder().map((j) => j.id)).toEqual(['j1', 'j3']);
  });

  it('evicts only finished jobs older than the cutoff, with their events', () => {
    const { store } = open();
    store.insert(job('old', 0));
    store.insert(job('new', 0));
    store.insert(job('queued', 0));
    store.insert(job('running', 0));
    store.update('old', { status: 'failed', finished_at: 100, workspace: '/ws/old' });
    store.update('new', { status: 'failed', finished_at: 5000 });
    store.update('running', { status: 'running' });
    store.appendEvent('old', 'status', { status: 'completed' }, 100);
    // The evicted job comes back with the workspace it kept, for the caller to remove.
    expect(store.evictFinishedBefore(1000)).toEqual([{ id: 'old', workspace: '/ws/old' }]);
    expect(store.get('old')).toBeUndefined();
    expect(store.eventsSince('old', 0)).toEqual([]);
    expect(['new', 'queued', 'running'].map((id) => store.get(id)?.id)).toEqual(['new', 'queued', 'running']);
  });

  it('appends events with increasing ids and replays after an id', () => {
    const { store } = open();
    store.insert(job('a', 0));
    const e1 = store.appendEvent('a', 'status', { status: 'queued' }, 1);
    const e2 = store.appendEvent('a', 'log', { line: 'x' }, 2);
    expect(e2.id).toBeGreaterThan(e1.id);
    expect(store.eventsSince('a', e1.id).map((e) => e.data)).toEqual([{ line: 'x' }]);
  });
});
