import { parse } from 'yaml';
import { z } from 'zod';
import { InvalidInputError } from '../lib/errors.js';
import { describeZodError } from '../lib/validate.js';
import { MAX_SWARM_TASKS, orderSpecs, taskSpecSchema } from './specs.js';
import type { TaskSpec } from './types.js';

/** A tasks file larger than this is not a plan a person wrote. */
export const MAX_TASKS_FILE_BYTES = 4 * 1024 * 1024;

const listSchema = z.array(taskSpecSchema).min(1).max(MAX_SWARM_TASKS);
const fileSchema = z.object({ tasks: listSchema }).strict();

/**
 * A tasks file: YAML (JSON is YAML too) holding `tasks:` or a top-level list of
 * `{id?, description, depends_on?, reserve?, priority?}`. Checked fully here (unknown
 * fields, keys, cycles) so a mistake is reported with the file's name before anything runs.
 */
export function parseTasksFile(text: string, name = 'tasks file'): TaskSpec[] {
  if (Buffer.byteLength(text, 'utf8') > MAX_TASKS_FILE_BYTES) throw new InvalidInputError(`${name}: larger than ${MAX_TASKS_FILE_BYTES} bytes`);
  let doc: unknown;
  try {
    // Aliases are the YAML feature that can blow up in memory: bounded.
    doc = parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new InvalidInputError(`${name}: not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  // A top-level list reads as the `tasks:` list, so errors name fields the same way.
  const r = fileSchema.safeParse(Array.isArray(doc) ? { tasks: doc } : doc);
  if (!r.success) throw new InvalidInputError(`${name}: ${describeZodError(r.error)}`);
  const specs = r.data.tasks;
  try {
    orderSpecs(specs);
  } catch (err) {
    throw new InvalidInputError(`${name}: ${(err as Error).message}`);
  }
  return specs;
}
