import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COLONY_BIN } from '../lib/package-root.js';


/**
 * Write a `--mcp-config` file naming Colony's stdio bridge for an agent, and return its
 * path. It lives in the job's scratch directory, outside the workspace, so it is never
 * committed.
 */
export function writeAgentMcpConfig(dir: string, opts: { repo: string }): string {
  const file = join(dir, 'mcp.json');
  const config = {
    mcpServers: {
      colony: { type: 'stdio', command: process.execPath, args: [COLONY_BIN, 'mcp', '--repo', opts.repo] },
    },
  };
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  return file;
}
