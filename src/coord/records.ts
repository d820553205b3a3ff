import { sha256Hex } from '../lib/ids.js';
import type { RecordKind, WireRecord } from './wire.js';

/**
 * JSON with object keys sorted, so equal payloads hash equally wherever they were written.
 * Built by concatenation: the hub checks every pushed record's hash, so this is on its hot path.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let s = '[';
    for (let i = 0; i < value.length; i++) s += (i ? ',' : '') + canonicalJson(value[i]);
    return s + ']';
  }
  const o = value as Record<string, unknown>;
  let s = '{';
  let first = true;
  for (const k of Object.keys(o).sort()) {
    const v = o[k];
    if (v === undefined) continue;
    s += (first ? '' : ',') + JSON.stringify(k) + ':' + canonicalJson(v);
    first = false;
  }
  return s + '}';
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
