import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ColonyError } from '../lib/errors.js';

/** Agent CLIs whose own configuration `colony mcp install` knows how to edit. */
export const MCP_CLIENTS = ['claude', 'codex', 'gemini'] as const;
export type McpClient = (typeof MCP_CLIENTS)[number];

/** The stdio server to register: how the agent starts Colony's bridge. */
export interface McpServerEntry {
  command: string;
  args: string[];
}

export interface InstallPlan {
  client: McpClient;
  /** The configuration file the agent reads. */
  file: string;
  /** `installed`: no entry before; `updated`: a different one replaced; `unchanged`: already so. */
  action: 'installed' | 'updated' | 'unchanged';
  entry: McpServerEntry;
  /** The entry that was there before, as the file had it, when one was. */
  previous?: unknown;
  /** The file's new text (equal to the old one when unchanged). */
  content: string;
}

const SERVER_NAME = 'colony';

/**
 * Where each CLI reads its user-level MCP servers, as their own `mcp add` commands write them
 * (checked against claude-code 2.1, codex 0.171, gemini-cli 0.61): `mcpServers` in
 * ~/.claude.json (in $CLAUDE_CONFIG_DIR when set), `[mcp_servers.*]` in ~/.codex/config.toml
 * ($CODEX_HOME when set), `mcpServers` in ~/.gemini/settings.json.
 */
export function configFileOf(client: McpClient, env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME || homedir();
  switch (client) {
    case 'claude':
      return join(env.CLAUDE_CONFIG_DIR || home, '.claude.json');
    case 'codex':
      return join(env.CODEX_HOME || join(home, '.codex'), 'config.toml');
    case 'gemini':
      return join(home, '.gemini', 'settings.json');
  }
}

function readText(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

function sameEntry(a: unknown, b: McpServerEntry): boolean {
  if (!a || typeof a !== 'object') return false;
  const e = a as Record<string, unknown>;
  return e.command === b.command && Array.isArray(e.args) && JSON.stringify(e.args) === JSON.stringify(b.args);
}

/** claude and gemini: a JSON file with an `mcpServers` object; every other key is kept as it was. */
function planJson(client: McpClient, file: string, entry: McpServerEntry): InstallPlan {
  const text = readText(file);
  let doc: Record<string, unknown> = {};
  if (text !== undefined && text.trim() !== '') {
    try {
      doc = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new ColonyError('bad_config', `${file} is not valid JSON (${(err as Error).message}); fix it, then run this again`);
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ColonyError('bad_config', `${file} does not hold a JSON object`);
  }
  const servers = (doc.mcpServers ?? {}) as Record<string, unknown>;
  if (typeof servers !== 'object' || Array.isArray(servers)) throw new ColonyError('bad_config', `${file}: mcpServers is not an object`);
  const previous = servers[SERVER_NAME];
  if (sameEntry(previous, entry)) return { client, file, action: 'unchanged', entry, previous, content: text! };
  // claude's own `mcp add` writes the type and an env; gemini's writes neither.
  const value = client === 'claude' ? { type: 'stdio', ...entry, env: {} } : { ...entry };
  const next = { ...doc, mcpServers: { ...servers, [SERVER_NAME]: value } };
  return { client, file, action: previous === undefined ? 'installed' : 'updated', entry, previous, content: `${JSON.stringify(next, null, 2)}\n` };
}

/** A TOML basic string: JSON's escapes are TOML's for every character a path holds. */
const tomlString = (s: string): string => JSON.stringify(s);

/**
 * codex: the `[mcp_servers.colony]` table of config.toml, edited as text so the user's
 * comments and layout stay as they were; only that table's lines are replaced.
 */
function planToml(file: string, entry: McpServerEntry): InstallPlan {
  const text = readText(file) ?? '';
  const section = `[mcp_servers.${SERVER_NAME}]\ncommand = ${tomlString(entry.command)}\nargs = [${entry.args.map(tomlString).join(', ')}]\n`;
  const lines = text.split('\n');
  const header = /^\s*\[\s*mcp_servers\s*\.\s*"?colony"?\s*\]\s*(#.*)?$/;
  const start = lines.findIndex((l) => header.test(l));
  if (start < 0) {
    const sep = text === '' ? '' : text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
    return { client: 'codex', file, action: 'installed', entry, content: text + sep + section };
  }
  let end = start + 1;
  while (end < lines.length && !/^\s*\[/.test(lines[end]!)) end++;
  // Trailing blank lines belong to the gap before the next table, not to this one.
  while (end > start + 1 && lines[end - 1]!.trim() === '') end--;
  const old = lines.slice(start, end).join('\n') + '\n';
  if (old === section) return { client: 'codex', file, action: 'unchanged', entry, previous: old.trimEnd(), content: text };
  const content = [...lines.slice(0, start), ...section.trimEnd().split('\n'), ...lines.slice(end)].join('\n');
  return { client: 'codex', file, action: 'updated', entry, previous: old.trimEnd(), content };
}

/** What `colony mcp install <client>` would change, without changing it. */
export function planInstall(client: McpClient, entry: McpServerEntry, env: NodeJS.ProcessEnv = process.env): InstallPlan {
  const file = configFileOf(client, env);
  return client === 'codex' ? planToml(file, entry) : planJson(client, file, entry);
}

/** Write the plan's file (atomically, keeping its mode; new files are 0600: they may hold keys). */
export function applyInstall(plan: InstallPlan): void {
  if (plan.action === 'unchanged') return;
  mkdirSync(dirname(plan.file), { recursive: true });
  const mode = existsSync(plan.file) ? statSync(plan.file).mode & 0o777 : 0o600;
  const tmp = `${plan.file}.colony-${process.pid}.tmp`;
  writeFileSync(tmp, plan.content, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, plan.file);
}
