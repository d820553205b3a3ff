import type { WireRecord } from '../coord/wire.js';

/**
 * Who may write what on a hub. A reservation belongs to the origin (colony) that pushed it
 * first, and so does a run: only that origin may release it, declare intents on it, give it
 * dependencies, heartbeat the run or claim under its id. Owners are keys like
 * `res:<reservation_id>` and `run:<run_id>`; a record that needs a key another origin owns
 * is refused, and the first record to name an unowned key makes its origin the owner.
 * Tasks are shared work (any colony may complete one), so they need no key.
 */
export interface Keys {
  /** Keys that must be unowned or owned by the record's origin. */
  requires: string[];
  /** Keys the record's origin becomes the owner of, if unowned. */
  establishes: string[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

export function keysOf(r: WireRecord): Keys {
  const p = r.payload as Record<string, unknown>;
  const res = str(p.reservation_id) && `res:${p.reservation_id as string}`;
  const run = (id: unknown): string | undefined => (str(id) ? `run:${id as string}` : undefined);
  const list = (...k: (string | undefined)[]): string[] => k.filter((x): x is string => !!x);
  switch (r.kind) {
    case 'reservation':
      return { requires: list(run(p.run_id)), establishes: list(res, run(p.run_id)) };
    case 'release':
    case 'intent':
      return { requires: list(res, run(p.run_id)), establishes: list(run(p.run_id)) };
    case 'dependency':
      return { requires: list(res), establishes: [] };
    case 'heartbeat':
      return { requires: list(run(p.run_id)), establishes: list(run(p.run_id)) };
    case 'claim':
      return { requires: list(run(p.claimer_run_id)), establishes: list(run(p.claimer_run_id)) };
    case 'task':
      return { requires: [], establishes: [] };
  }
}

export interface Refused {
  record_id: string;
  reason: string;
}

/**
 * Split a batch into what may be stored and what is refused, given the current owners of
 * every key it names (`owners`, updated in place with the new owners to store).
 */
export function judge(records: readonly WireRecord[], owners: Map<string, string>): { accepted: WireRecord[]; refused: Refused[]; newOwners: [string, string][] } {
  const accepted: WireRecord[] = [];
  const refused: Refused[] = [];
  const newOwners: [string, string][] = [];
  for (const r of records) {
    const k = keysOf(r);
    const taken = k.requires.find((key) => owners.has(key) && owners.get(key) !== r.origin);
    if (taken) {
      refused.push({ record_id: r.record_id, reason: `${taken.replace(':', ' ')} belongs to another colony` });
      continue;
    }
    for (const key of k.establishes) {
      if (!owners.has(key)) {
        owners.set(key, r.origin);
        newOwners.push([key, r.origin]);
      }
    }
    accepted.push(r);
  }
  return { accepted, refused, newOwners };
}

/** Every key a batch names, to look its owners up in one query. */
export function keysOfBatch(records: readonly WireRecord[]): string[] {
  const all = new Set<string>();
  for (const r of records) {
    const k = keysOf(r);
    for (const key of [...k.requires, ...k.establishes]) all.add(key);
  }
  return [...all];
}
