import { z } from 'zod';
import { InvalidInputError } from '../lib/errors.js';
import { PERMISSION_LEVELS } from '../runner/agents/permissions.js';
import type { TaskSpec } from './types.js';

export const MAX_SWARM_AGENTS = 32;
export const MAX_SWARM_TASKS = 500;
export const MAX_GOAL_BYTES = 16 * 1024;
export const DEFAULT_AGENTS = 3;
export const DEFAULT_MAX_ATTEMPTS = 2;

const key = z.string().min(1).max(100);
const symbol = z.string().min(1).max(1024);

export const taskSpecSchema = z
  .object({
    id: key.optional(),
    description: z.string().trim().min(1).max(10_000),
    depends_on: z.array(key).max(MAX_SWARM_TASKS).optional(),
    reserve: z.array(symbol).max(100).optional(),
    priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
  })
  .strict();

/** POST /swarms: bounded, `plan` and `tasks` exclusive. */
export const swarmRequestSchema = z
  .object({
    agents: z.number().int().min(1).max(MAX_SWARM_AGENTS).optional(),
    agent: z.string().min(1).max(100).optional(),
    model: z.string().min(1).max(200).optional(),
    plan: z
      .string()
      .trim()
      .min(1)
      .refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_GOAL_BYTES, `at most ${MAX_GOAL_BYTES} bytes`)
      .optional(),
    tasks: z.array(taskSpecSchema).min(1).max(MAX_SWARM_TASKS).optional(),
    max_attempts: z.number().int().min(1).max(10).optional(),
    permissions: z.enum(PERMISSION_LEVELS).optional(),
    timeout_s: z.number().int().min(1).max(7 * 86_400).optional(),
  })
  .strict()
  .refine((r) => r.plan === undefined || r.tasks === undefined, { message: 'give either plan or tasks, not both', path: ['plan'] });

/**
 * The specs in an order where every task comes after those it depends on; refuses duplicate
 * keys, unknown keys and cycles, naming the field.
 */
export function orderSpecs(specs: readonly TaskSpec[]): TaskSpec[] {
  const byKey = new Map<string, number>();
  specs.forEach((s, i) => {
    if (s.id === undefined) return;
    if (byKey.has(s.id)) throw new InvalidInputError(`tasks.${i}.id: '${s.id}' is used by more than one task`, { fields: [`tasks.${i}.id`] });
    byKey.set(s.id, i);
  });
  specs.forEach((s, i) =>
    (s.depends_on ?? []).forEach((d, j) => {
      if (!byKey.has(d)) throw new InvalidInputError(`tasks.${i}.depends_on.${j}: no task has id '${d}'`, { fields: [`tasks.${i}.depends_on`] });
      if (d === s.id) throw new InvalidInputError(`tasks.${i}.depends_on: task '${d}' depends on itself`, { fields: [`tasks.${i}.depends_on`] });
    }),
  );
  // Depth-first, keeping the given order among tasks free to go.
  const state = new Array<0 | 1 | 2>(specs.length).fill(0);
  const out: TaskSpec[] = [];
  const visit = (i: number, path: string[]): void => {
    if (state[i] === 2) return;
    const name = specs[i]!.id ?? `#${i}`;
    if (state[i] === 1) {
      const cycle = [...path.slice(path.indexOf(name)), name].join(' → ');
      throw new InvalidInputError(`tasks.${i}.depends_on: a cycle (${cycle})`, { fields: [`tasks.${i}.depends_on`] });
    }
    state[i] = 1;
    for (const d of specs[i]!.depends_on ?? []) visit(byKey.get(d)!, [...path, name]);
    state[i] = 2;
    out.push(specs[i]!);
  };
  specs.forEach((_, i) => visit(i, []));
  return out;
}
