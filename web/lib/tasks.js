// A swarm's task list as a person types it: YAML or JSON (JSON is YAML too), either a list
// of tasks or `tasks:` holding one, each `{id?, description, depends_on?, reserve?, priority?}`
// — the spelling of `colony swarm --tasks`. The daemon validates again; this only says early
// and precisely what is wrong with the text in the box.
import { parse } from 'yaml';

const FIELDS = new Set(['id', 'description', 'depends_on', 'reserve', 'priority']);

const strings = (v, where) => {
  if (v === undefined || v === null) return undefined;
  const list = Array.isArray(v) ? v : [v];
  if (!list.every((s) => typeof s === 'string' || typeof s === 'number')) throw new Error(`${where}: a list of names`);
  return list.map(String);
};

/** TaskSpec[] from the text, or an Error saying which task and field is wrong. */
export function parseTasks(text) {
  let doc;
  try {
    doc = parse(text);
  } catch (err) {
    throw new Error(`Not YAML or JSON: ${err.message.split('\n')[0]}`);
  }
  const list = Array.isArray(doc) ? doc : doc?.tasks;
  if (!Array.isArray(list) || list.length === 0) throw new Error('Expected a list of tasks (or `tasks:` holding one)');
  return list.map((t, i) => {
    const where = `task ${i + 1}`;
    if (typeof t === 'string') return { description: t };
    if (!t || typeof t !== 'object') throw new Error(`${where}: expected a description or an object`);
    const unknown = Object.keys(t).filter((k) => !FIELDS.has(k));
    if (unknown.length) throw new Error(`${where}: unknown field ${unknown.join(', ')}`);
    if (typeof t.description !== 'string' || !t.description.trim()) throw new Error(`${where}: description is required`);
    if (t.priority !== undefined && !Number.isInteger(t.priority)) throw new Error(`${where}: priority is a whole number`);
    const spec = { description: t.description };
    if (t.id !== undefined) spec.id = String(t.id);
    const deps = strings(t.depends_on, `${where}.depends_on`);
    if (deps) spec.depends_on = deps;
    const reserve = strings(t.reserve, `${where}.reserve`);
    if (reserve) spec.reserve = reserve;
    if (t.priority !== undefined) spec.priority = t.priority;
    return spec;
  });
}
