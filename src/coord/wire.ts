/** The seven coordination record kinds. */
export const RECORD_KINDS = ['reservation', 'intent', 'release', 'heartbeat', 'dependency', 'task', 'claim'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

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
