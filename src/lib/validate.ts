import type { ZodType, ZodError } from 'zod';
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
