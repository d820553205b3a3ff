import type { CoordService, Refusal } from '../service.js';
import { MAX_PUSH_BATCH, MAX_PUSH_BYTES, type RecordKind } from '../wire.js';
import type { HubClient } from './hub-client.js';
import { SyncState, type PendingRow } from './state.js';

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

/** Records of one request: at most MAX_PUSH_BATCH and MAX_PUSH_BYTES (the hub refuses more). */
export function toBatches(rows: readonly PendingRow[]): PendingRow[][] {
  const batches: PendingRow[][] = [];
  let batch: PendingRow[] = [];
  let bytes = 0;
  for (const row of rows) {
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
  return batches;
}

/**
 * Send the batches, a few in flight at once to keep both ends busy. Batches are in the order
 * the records were written; once every batch up to one is confirmed, the watermark moves past
 * it (one small write, however many records). A batch confirmed ahead of an earlier one still
 * in flight is marked record by record instead, so a push that fails half-way keeps all it
 * got. With `watermark: false` (a push of some kinds only) every batch is marked. Order does
 * not matter to the hub: it deduplicates by record_id.
 */
export async function pushBatches(
  state: SyncState,
  client: HubClient,
  batches: readonly PendingRow[][],
  opts: { origin: string; watermark: boolean; onProgress?: (done: number, total: number) => void },
): Promise<PushResult> {
  const target = { hub: client.hubUrl, repoId: client.repoId };
  const total = batches.reduce((n, b) => n + b.length, 0);
  const result: PushResult = { inserted: 0, skipped: 0, batches: 0, refused: 0 };
  const confirmed: boolean[] = [];
  let prefix = 0;
  let next = 0;
  let done = 0;
  const settle = (i: number): void => {
    confirmed[i] = true;
    if (opts.watermark && i === prefix) {
      while (confirmed[prefix]) prefix++;
      const last = batches[prefix - 1]!;
      state.raiseWatermark(target, last[last.length - 1]!.seq);
    } else {
      state.mark(target, batches[i]!.map((row) => row.record_id));
    }
  };
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const i = next++;
      const rows = batches[i]!;
      const r = await client.pushRows(rows, opts.origin);
      settle(i);
      result.inserted += r.inserted;
      result.skipped += r.skipped;
      result.refused += r.refused?.length ?? 0;
      result.batches++;
      done += rows.length;
      opts.onProgress?.(done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PUSH_CONCURRENCY, batches.length) }, worker));
  return result;
}

/**
 * Push local records the hub has not confirmed yet, in batches. Records count as pushed
 * only after the hub answers, so a crash or a network failure means a harmless re-push
 * (the hub skips what it has).
 */
export async function push(
  coord: CoordService,
  client: HubClient,
  opts: { origin: string; kinds?: readonly RecordKind[]; onProgress?: (done: number, total: number) => void },
): Promise<PushResult> {
  const state = SyncState.of(coord.store.db);
  const kinds = opts.kinds?.length ? opts.kinds : undefined;
  const target = { hub: client.hubUrl, repoId: client.repoId };
  const rows = state.pending(target, state.watermark(target), kinds);
  // Only a push of every kind may move the watermark: it vouches for every record under it.
  return pushBatches(state, client, toBatches(rows), { ...opts, watermark: !kinds });
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
  const state = SyncState.of(db);
  const target = { hub: opts.hub, repoId: opts.repoId };
  let cursor = opts.since ?? state.cursor(target) ?? '0';
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
      if (!stateless) state.saveCursor(target, page.cursor, Date.now());
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
