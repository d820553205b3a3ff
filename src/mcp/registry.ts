import type { ToolDef } from './tool.js';

/** Index tool definitions by name; a duplicate name is a programming error. */
export function buildToolMap(defs: readonly ToolDef[]): Map<string, ToolDef> {
  const map = new Map<string, ToolDef>();
  for (const d of defs) {
    if (map.has(d.name)) throw new Error(`duplicate tool ${d.name}`);
    map.set(d.name, d);
  }
  return map;
}
