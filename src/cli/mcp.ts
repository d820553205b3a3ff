import type { Command } from 'commander';
import { colonyPaths, ensureColonyDir } from '../daemon/paths.js';
import { runStdioBridge } from '../mcp/stdio-bridge.js';
import { resolveRepoRoot } from './repo.js';

export function registerMcp(program: Command): void {
  program
    .command('mcp')
    .description('MCP server on stdio, bridged to the repository’s daemon (starts one if none runs)')
    .option('--repo <dir>', 'repository whose daemon to use (default: the git repository of the current directory)')
    .option('--run-id <id>', "the run this client works for, recorded with the memories it stores (default: COLONY_RUN_ID, set in every Colony job)")
    .addHelpText('after', '\nFor Claude Code: claude mcp add colony -- npx colony mcp')
    .action(async (o: { repo?: string; runId?: string }) => {
      const repo = resolveRepoRoot(o.repo);
      ensureColonyDir(colonyPaths(repo));
      await runStdioBridge(repo, o.runId ?? (process.env.COLONY_RUN_ID || undefined));
    });
}
