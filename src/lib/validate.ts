import { z, type ZodType, type ZodError } from 'zod';
import { InvalidInputError } from './errors.js';

/** Human message naming every bad field, e.g. `prompt: Required; timeout_s: Expected number`. */
export function describeZodError(err: ZodError | { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return err.issues
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(input)'}: ${i.message}`)
    .join('; ');
}

/** Parse input with a zod schema, throwing InvalidInputError that names the fields. */
export function parseInput<T>(schema: ZodType<T, any, any>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) {
    throw new InvalidInputError(describeZodError(r.error), {
      fields: r.error.issues.map((i) => i.path.join('.')),
    });
  }
  return r.data;
}

/** Default bound on the nesting of any JSON input (objects and arrays). */
export const MAX_JSON_DEPTH = 64;

/**
 * Where a JSON value nests deeper than `maxDepth` (objects and arrays), as a dotted path
 * (shortened), or undefined when it does not. Iterative: a value nested 100,000 deep costs
 * a walk, never the stack (JSON.stringify and recursive validators overflow on such input).
 */
export function tooDeepAt(value: unknown, maxDepth: number = MAX_JSON_DEPTH): string | undefined {
  const stack: { v: unknown; depth: number; path: (string | number)[] }[] = [{ v: value, depth: 0, path: [] }];
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > maxDepth) {
      const shown = path.length > 8 ? [...path.slice(0, 4), '…', ...path.slice(-3)] : path;
      return shown.length ? shown.join('.') : '(input)';
    }
    // Paths are only kept for the first levels: enough to name the field.
    const child = (k: string | number): (string | number)[] => (path.length < 8 ? [...path, k] : path.length === 8 ? [...path, '…'] : path);
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) stack.push({ v: v[i], depth: depth + 1, path: child(i) });
    else for (const k of Object.keys(v)) stack.push({ v: (v as Record<string, unknown>)[k], depth: depth + 1, path: child(k) });
  }
  return undefined;
}

/** Throw InvalidInputError naming the field when `value` nests deeper than `maxDepth`. */
export function assertJsonDepth(value: unknown, maxDepth: number = MAX_JSON_DEPTH, field = ''): void {
  const at = tooDeepAt(value, maxDepth);
  if (at === undefined) return;
  const where = field ? (at === '(input)' ? field : `${field}.${at}`) : at;
  const top = field || String(where.split('.')[0]);
  throw new InvalidInputError(`${top}: nested deeper than ${maxDepth} levels${where === top ? '' : ` (at ${where})`}`, { fields: [top] });
}

/**
 * Arbitrary JSON with bounded nesting and size: for free-form fields such as job metadata.
 * Size is the UTF-8 length of its JSON text.
 */
export function boundedJson<T extends z.ZodTypeAny>(schema: T, opts: { maxDepth: number; maxBytes: number }): z.ZodEffects<T> {
  return schema.superRefine((v, ctx) => {
    if (tooDeepAt(v, opts.maxDepth) !== undefined) {
      ctx.addIssue({ code: 'custom', message: `nested deeper than ${opts.maxDepth} levels` });
      return;
    }
    const bytes = Buffer.byteLength(JSON.stringify(v) ?? '');
    if (bytes > opts.maxBytes) ctx.addIssue({ code: 'custom', message: `${bytes} bytes of JSON, more than the ${opts.maxBytes} allowed` });
  });
}

/**
 * A whole number as decimal text that fits a signed 64-bit integer (SQLite INTEGER,
 * PostgreSQL BIGINT): `9223372036854775808` is refused by validation, not by the database.
 */
export const int64Text = z
  .string()
  .regex(/^\d{1,19}$/, 'must be a whole number')
  // zod runs a refinement even after the regex failed: BigInt('abc') must not throw here.
  .refine((s) => !/^\d{1,19}$/.test(s) || BigInt(s) <= 9223372036854775807n, 'must be at most 9223372036854775807');
