import { sha256Hex } from '../lib/ids.js';
import type { RecordKind, WireRecord } from './wire.js';

/** JSON with object keys sorted, so equal payloads hash equally wherever they were written. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** record_id = content hash of kind + payload. */
export function recordId(kind: RecordKind, payload: Record<string, unknown>): string {
  return sha256Hex(`${kind}\n${canonicalJson(payload)}`);
}

export function makeRecord(
  kind: RecordKind,
  runId: string,
  payload: Record<string, unknown>,
  createdAt: number,
  expiresAt: number | null,
  origin = 'local',
): WireRecord {
  return { kind, record_id: recordId(kind, payload), run_id: runId, payload, created_at: createdAt, expires_at: expiresAt, origin };
}
