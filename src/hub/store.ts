import type { RecordKind, WireRecord } from '../coord/wire.js';
import type { Refused } from './ownership.js';

/**
 * The hub's database cannot be reached right now (connection refused or dropped, server
 * shutting down or starting). The hub answers 503 and keeps serving; clients retry.
 */
export class StoreUnavailableError extends Error {
  readonly code = 'store_unavailable';
}

export interface HubKey {
  key_id: string;
  repo: string;
  public_key: string;
  name: string | null;
  created_at: string;
}

export interface InsertResult {
  inserted: number;
  /** Already stored, or refused (see `refused`). */
  skipped: number;
  /** Records that name a reservation or run another colony owns (see ownership.ts). */
  refused: Refused[];
  /** The repository's latest sequence number after the insert. */
  cursor: string;
}

export interface ReadResult {
  /** Records as stored JSON text, in sequence order: responses splice them without re-encoding. */
  bodies: string[];
  cursor: string;
  more: boolean;
}

/**
 * A hub's storage: per repository an append-only log of records with strictly increasing
 * sequence numbers, deduplicated by record_id, plus the keys allowed to write to it.
 * Sequence numbers are assigned in commit order, so a reader paging by cursor never
 * skips a record that commits later with a smaller number.
 */
export interface HubStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Told about connection errors that reach no request (a pooled connection dying idle). */
  onError?: (err: Error) => void;
  init(): Promise<void>;
  close(): Promise<void>;
  addKey(repo: string, publicKey: string, keyId: string, name?: string): Promise<void>;
  /** Remove a key from every repository it was registered for. */
  removeKey(keyId: string): Promise<boolean>;
  listKeys(repo?: string): Promise<HubKey[]>;
  /** The key registered under this id for this repository (one key may serve several). */
  keyFor(keyId: string, repo: string): Promise<HubKey | undefined>;
  repoKnown(repo: string): Promise<boolean>;
  insert(repo: string, records: readonly WireRecord[]): Promise<InsertResult>;
  /**
   * Record a verified request signature; false if it was seen before (a replay). Entries
   * older than `pruneBefore` (seconds; past the skew window, so never accepted again
   * anyway) are dropped from time to time.
   */
  rememberSignature(sig: Buffer, ts: number, pruneBefore: number): Promise<boolean>;
  read(repo: string, since: bigint, kinds: readonly RecordKind[] | undefined, limit: number): Promise<ReadResult>;
}

export async function openHubStore(url: string): Promise<HubStore> {
  let store: HubStore;
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { PgHubStore } = await import('./pg-store.js');
    store = new PgHubStore(url);
  } else if (url.startsWith('sqlite:')) {
    const { SqliteHubStore } = await import('./sqlite-store.js');
    store = new SqliteHubStore(url.slice('sqlite:'.length));
  } else {
    throw new Error(`unsupported hub database '${url}': use sqlite:<path> or postgres://…`);
  }
  await store.init();
  return store;
}
