import { COLONY_BIN } from '../lib/package-root.js';
import type { McpServerSpec } from '../runner/agents/types.js';

/**
 * Colony's stdio bridge as a job's agent starts it; each adapter writes it in its CLI's own
 * configuration format. The bridge announces the job's run (COLONY_RUN_ID, in the agent's
 * environment) itself.
 */
export function agentMcpServer(opts: { repo: string }): McpServerSpec {
  return { command: process.execPath, args: [COLONY_BIN, 'mcp', '--repo', opts.repo] };
}
