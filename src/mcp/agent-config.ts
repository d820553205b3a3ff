import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COLONY_BIN } from '../lib/package-root.js';
import type { McpServerSpec } from '../runner/agents/types.js';

/**
 * Colony's stdio bridge as a job's agent starts it, written as each CLI's configuration
 * into the job's scratch directory, outside the workspace, so it is never committed. The
 * bridge announces the job's run (COLONY_RUN_ID, in the agent's environment) itself.
 */
export function writeAgentMcpConfig(dir: string, opts: { repo: string }): McpServerSpec {
  const command = process.execPath;
  const args = [COLONY_BIN, 'mcp', '--repo', opts.repo];
  const configFile = join(dir, 'mcp.json');
  writeFileSync(configFile, JSON.stringify({ mcpServers: { colony: { command, args } } }, null, 2), { mode: 0o600 });
  const geminiSettingsFile = join(dir, 'gemini-settings.json');
  writeFileSync(geminiSettingsFile, JSON.stringify({ mcpServers: { colony: { command, args, trust: true } } }, null, 2), { mode: 0o600 });
  return { command, args, configFile, geminiSettingsFile };
}
