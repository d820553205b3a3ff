/** The seven coordination record kinds. */
export const RECORD_KINDS = ['reservation', 'intent', 'release', 'heartbeat', 'dependency', 'task', 'claim'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/** Records per push request; the hub refuses more. */
export const MAX_PUSH_BATCH = 500;
/**
 * Bytes per push request. The hub refuses a larger body without reading it, so an
 * unauthenticated client cannot make it buffer much; the push client splits batches by
 * size as well as by count to stay under it.
 */
export const MAX_PUSH_BYTES = 16 * 1024 * 1024;

/**
 * A coordination record as exchanged with the hub. `record_id` is the content hash of
 * kind + payload, so the same record pushed twice is recognised; `origin` names the
 * colony that wrote it (its identity key id, or `local`). Times are epoch milliseconds.
 */
export interface WireRecord {
  kind: RecordKind;
  record_id: string;
  run_id: string;
  payload: Record<string, unknown>;
  created_at: number;
  expires_at: number | null;
  origin: string;
}
