import type { CoordService, Refusal } from '../service.js';
import { MAX_PUSH_BATCH, MAX_PUSH_BYTES, type RecordKind, type WireRecord } from '../wire.js';
import type { HubClient } from './hub-client.js';

export { MAX_PUSH_BATCH };
/** Room in a push body for a record's fields around its payload (ids, times, origin). */
const RECORD_OVERHEAD_BYTES = 1024;
/** Batches in flight at once. */
const PUSH_CONCURRENCY = 4;

export interface PushResult {
  inserted: number;
  skipped: number;
  batches: number;
  /** Records the hub refused: they name a reservation or run another colony owns. */
  refused: number;
}

export interface PullResult {
  received: number;
  cursor: string;
  /** Records skipped because this colony would refuse them (e.g. a glob over the limits). */
  refused: number;
  /** The first refusals with their reasons. */
  refusals: Refusal[];
}

/**
 * Push local records the hub has not confirmed yet, in batches. A batch is marked pushed
 * only after the hub answers, so a crash or a network failure means a harmless re-push
 * (the hub skips what it has).
 */
export async function push(
  coord: CoordService,
  client: HubClient,
  opts: { origin: string; kinds?: readonly RecordKind[]; onProgress?: (done: number, total: number) => void },
): Promise<PushResult> {
  const db = coord.store.db;
  const kinds = opts.kinds?.length ? opts.kinds : undefined;
  const pending = db
    .prepare(
      `SELECT record_id, kind, run_id, payload, created_at, expires_at FROM coord_records r
       WHERE origin = 'local' ${kinds ? `AND kind IN (${kinds.map(() => '?').join(',')})` : ''} AND NOT EXISTS (SELECT 1 FROM coord_pushed p WHERE p.record_id = r.record_id AND p.hub = ? AND p.repo_id = ?)
       ORDER BY created_at, record_id`,
    )
    .all(...(kinds ?? []), client.hubUrl, client.repoId) as { record_id: string; kind: WireRecord['kind']; run_id: string; payload: string; created_at: number; expires_at: number | null }[];
  const markOne = db.prepare('INSERT OR IGNORE INTO coord_pushed (record_id, hub, repo_id) VALUES (?, ?, ?)');
  const mark = db.transaction((ids: string[]) => {
    for (const id of ids) markOne.run(id, client.hubUrl, client.repoId);
  });
  const result: PushResult = { inserted: 0, skipped: 0, batches: 0, refused: 0 };
  const batches: (typeof pending)[] = [];
  // At most MAX_PUSH_BATCH records and MAX_PUSH_BYTES per request: the hub refuses more.
  let batch: typeof pending = [];
  let bytes = 0;
  for (const row of pending) {
    const size = Buffer.byteLength(row.payload) + Buffer.byteLength(row.run_id) + RECORD_OVERHEAD_BYTES;
    if (batch.length && (batch.length === MAX_PUSH_BATCH || bytes + size > MAX_PUSH_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(row);
    bytes += size;
  }
  if (batch.length) batches.push(batch);
  let next = 0;
  let done = 0;
  // A few batches in flight keep both ends busy; each is marked once the hub confirms it,
  // and order does not matter because the hub deduplicates by record_id.
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const rows = batches[next++]!;
      const r = await client.pushRows(rows, opts.origin);
      mark(rows.map((row) => row.record_id));
      result.inserted += r.inserted;
      result.skipped += r.skipped;
      result.refused += r.refused?.length ?? 0;
      result.batches++;
      done += rows.length;
      opts.onProgress?.(done, pending.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PUSH_CONCURRENCY, batches.length) }, worker));
  return result;
}

/**
 * Pull from the saved cursor until the hub says there is no more. Each page's records and
 * the cursor after it are stored in one transaction: a crash neither loses nor doubles.
 * With `kinds`, `since` or `limit` it is a stateless read instead: records are applied but
 * the saved cursor is left alone (a read of some kinds, or from elsewhere, must not move
 * it past records it did not take); `limit` stops after that many records.
 */
export async function pull(
  coord: CoordService,
  client: HubClient,
  opts: {
    hub: string;
    repoId: string;
    ownOrigin?: string;
    kinds?: readonly RecordKind[];
    since?: string;
    limit?: number;
    onProgress?: (received: number) => void;
  },
): Promise<PullResult> {
  const stateless = !!opts.kinds?.length || opts.since !== undefined || opts.limit !== undefined;
  const db = coord.store.db;
  const getCursor = db.prepare('SELECT cursor FROM coord_sync_state WHERE hub = ? AND repo_id = ?');
  const saveCursor = db.prepare(
    `INSERT INTO coord_sync_state (hub, repo_id, cursor, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (hub, repo_id) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
  );
  let cursor = opts.since ?? (getCursor.get(opts.hub, opts.repoId) as { cursor: string } | undefined)?.cursor ?? '0';
  let read = 0;
  let received = 0;
  let refused = 0;
  const refusals: Refusal[] = [];
  for (;;) {
    const left = opts.limit === undefined ? undefined : Math.min(opts.limit - read, 1000);
    const page = await client.pull(cursor, { kinds: opts.kinds?.length ? opts.kinds : undefined, limit: left });
    // Our own records come back from the hub under our origin: we already have them.
    const foreign = page.records.filter((r) => r.origin !== opts.ownOrigin && r.origin !== 'local');
    db.transaction(() => {
      if (foreign.length) {
        const w = coord.writeRemoteRecords(foreign);
        refused += w.refused.length;
        refusals.push(...w.refused.slice(0, Math.max(0, 20 - refusals.length)));
      }
      if (!stateless) saveCursor.run(opts.hub, opts.repoId, page.cursor, Date.now());
    })();
    // What this colony did not have: its own records coming back are not news.
    received += foreign.length;
    read += page.records.length;
    cursor = page.cursor;
    opts.onProgress?.(received);
    if (!page.more || (opts.limit !== undefined && read >= opts.limit)) break;
  }
  return { received, cursor, refused, refusals };
}
