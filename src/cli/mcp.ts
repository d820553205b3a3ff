import type { Command } from 'commander';
import { colonyPaths, ensureColonyDir } from '../daemon/paths.js';
import { InvalidInputError } from '../lib/errors.js';
import { COLONY_BIN } from '../lib/package-root.js';
import { MCP_CLIENTS, applyInstall, planInstall, type McpClient } from '../mcp/install.js';
import { runStdioBridge } from '../mcp/stdio-bridge.js';
import { printResult } from './output.js';
import { resolveRepoRoot } from './repo.js';

/** This node and this colony by absolute path: the agent's PATH may not have either. */
export function bridgeEntry(): { command: string; args: string[] } {
  return { command: process.execPath, args: [COLONY_BIN, 'mcp'] };
}

export function registerMcp(program: Command): void {
  const mcp = program
    .command('mcp')
    .description('MCP server on stdio, bridged to the repository’s daemon (starts one if none runs)')
    .option('--repo <dir>', 'repository whose daemon to use (default: the git repository of the current directory)')
    .option('--run-id <id>', "the run this client works for, recorded with the memories it stores (default: COLONY_RUN_ID, set in every Colony job)")
    .addHelpText('after', `\nRegister it with an agent: colony mcp install claude|codex|gemini\n(or by hand: claude mcp add colony -- ${process.execPath} ${COLONY_BIN} mcp)`)
    .action(async (o: { repo?: string; runId?: string }) => {
      const repo = resolveRepoRoot(o.repo);
      ensureColonyDir(colonyPaths(repo));
      await runStdioBridge(repo, o.runId ?? (process.env.COLONY_RUN_ID || undefined));
    });

  mcp
    .command('install')
    .description("register Colony's MCP bridge in an agent's own user configuration (every repository; the bridge serves the one the agent runs in)")
    .argument('<agent>', MCP_CLIENTS.join('|'))
    .option('--dry-run', 'print what would be written, change nothing')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nWrites: claude ~/.claude.json mcpServers.colony ($CLAUDE_CONFIG_DIR/.claude.json when set),\n' +
        '        codex ~/.codex/config.toml [mcp_servers.colony] ($CODEX_HOME when set),\n' +
        '        gemini ~/.gemini/settings.json mcpServers.colony.\nRunning it again changes nothing.',
    )
    .action((agent: string, o: { dryRun?: boolean; json?: boolean }) => {
      if (!(MCP_CLIENTS as readonly string[]).includes(agent)) {
        throw new InvalidInputError(`unknown agent '${agent}'; colony mcp install knows ${MCP_CLIENTS.join(', ')}`);
      }
      const plan = planInstall(agent as McpClient, bridgeEntry());
      if (!o.dryRun) applyInstall(plan);
      const { content: _content, ...shown } = plan;
      printResult(!!o.json, { ...shown, dry_run: !!o.dryRun }, () => {
        const cmd = [plan.entry.command, ...plan.entry.args].join(' ');
        if (plan.action === 'unchanged') return `colony is already registered with ${agent} in ${plan.file} (${cmd}); nothing changed`;
        const verb = o.dryRun ? (plan.action === 'installed' ? 'would register' : 'would update') : plan.action === 'installed' ? 'registered' : 'updated';
        const was = plan.previous === undefined ? '' : `\nwas: ${typeof plan.previous === 'string' ? plan.previous : JSON.stringify(plan.previous)}`;
        return `${verb} colony with ${agent} in ${plan.file}: ${cmd}${was}`;
      });
    });
}
