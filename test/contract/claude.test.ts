// Contract: the real Claude Code CLI, run exactly as Colony's adapter runs it.
import { describe, expect, it } from 'vitest';
import { PERMISSION_LEVELS, type PermissionLevel } from '../../src/runner/agents/permissions.js';
import { ARGUMENT_ERROR, DASH_PROMPT, contractFixture, REAL_CLIS, sampleJob } from './real-cli.js';

const cli = contractFixture('claude');

const MODE: Record<PermissionLevel, string> = { read_only: 'dontAsk', edit: 'acceptEdits', full: 'bypassPermissions' };

describe(`contract: ${REAL_CLIS.claude.pkg}@${REAL_CLIS.claude.version}`, () => {
  it.for(PERMISSION_LEVELS)('%s: takes the prompt on stdin (starting with "-"), the model, the level and Colony’s MCP server; fails only for lack of a login', async (permissions, ctx) => {
    const bin = cli.bin;
    if (!bin) return ctx.skip();
    const job = await sampleJob('claude', bin, { prompt: DASH_PROMPT, permissions, model: 'sonnet', repo: cli.repo.dir });
    try {
      expect(job.invocation.args.join(' ')).not.toContain(DASH_PROMPT);
      const { outcome, stdout, stderr } = await job.run();
      const all = [...stdout, ...stderr].join('\n');
      expect(all).not.toMatch(ARGUMENT_ERROR);
      const events = stdout.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      const init = events.find((e) => e.type === 'system' && e.subtype === 'init');
      // The CLI's own view of its session: the permission mode and Colony's MCP server as loaded.
      expect(init, all).toBeDefined();
      expect(init.permissionMode).toBe(MODE[permissions]);
      expect(init.mcp_servers.map((s: { name: string }) => s.name)).toContain('colony');
      const result = events.find((e) => e.type === 'result');
      expect(result).toMatchObject({ is_error: true, result: expect.stringContaining('Not logged in') });
      expect(outcome.exitCode).toBe(1);
    } finally {
      await job.cleanup();
    }
  });
});
