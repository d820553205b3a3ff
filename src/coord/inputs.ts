import { InvalidInputError } from '../lib/errors.js';

/**
 * Checks every coordination operation applies to its arguments before touching the store,
 * so in-process callers (tests, benches, the CLI's gc) get the same clear errors as the
 * zod-validated transports, and nothing is stored for bad input.
 */

export const DEFAULT_TTL_S = 600;
/** A lease longer than a day is a forgotten lease, not a plan. */
export const MAX_TTL_S = 24 * 3600;

/** A TTL in seconds (default 600) as milliseconds; 1 s to 24 h. */
export function ttlMs(seconds: number | undefined, field = 'ttl_seconds'): number {
  const s = seconds ?? DEFAULT_TTL_S;
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 1 || s > MAX_TTL_S) {
    throw new InvalidInputError(`${field}: must be between 1 and ${MAX_TTL_S} seconds`, { fields: [field] });
  }
  return Math.round(s * 1000);
}

export function requireRun(runId: unknown): string {
  if (typeof runId !== 'string' || !runId.trim() || runId.length > 200) {
    throw new InvalidInputError('run_id: required, 1–200 characters', { fields: ['run_id'] });
  }
  return runId;
}

/** A required id argument (reservation_id, task_id, …). */
export function requireId(field: string, value: unknown): string {
  if (typeof value !== 'string' || !value || value.length > 200) {
    throw new InvalidInputError(`${field}: required, 1–200 characters`, { fields: [field] });
  }
  return value;
}

/** A list of ids, deduplicated and sorted so equal lists hash equally. */
export function idList(field: string, value: unknown, opts: { min?: number } = {}): string[] {
  if (!Array.isArray(value)) throw new InvalidInputError(`${field}: must be an array of ids`, { fields: [field] });
  if (value.length < (opts.min ?? 0)) throw new InvalidInputError(`${field}: needs at least ${opts.min} id`, { fields: [field] });
  if (value.length > 1000) throw new InvalidInputError(`${field}: at most 1000 ids`, { fields: [field] });
  return [...new Set(value.map((v) => requireId(field, v)))].sort();
}

export function limitOf(value: unknown, dflt: number, max: number): number {
  const n = value ?? dflt;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) {
    throw new InvalidInputError(`limit: an integer from 1 to ${max}`, { fields: ['limit'] });
  }
  return n;
}

export const iso = (ms: number): string => new Date(ms).toISOString();
