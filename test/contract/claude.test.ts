// Contract: the real Claude Code CLI, run exactly as Colony's adapter runs it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { PERMISSION_LEVELS, type PermissionLevel } from '../../src/runner/agents/permissions.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { makeTempRepo } from '../helpers/repo.js';
import { ARGUMENT_ERROR, DASH_PROMPT, INSTALL_TIMEOUT_MS, realCli, REAL_CLIS, sampleJob } from './real-cli.js';

let bin: string | undefined;
let d: Daemon;
let repo: ReturnType<typeof makeTempRepo>;
beforeAll(async () => {
  bin = await realCli('claude');
  repo = makeTempRepo();
  d = await startTestDaemon(repo.dir);
}, INSTALL_TIMEOUT_MS + 60_000);
afterAll(async () => {
  await d?.close();
  repo?.cleanup();
});

const MODE: Record<PermissionLevel, string> = { read_only: 'dontAsk', edit: 'acceptEdits', full: 'bypassPermissions' };

describe(`contract: ${REAL_CLIS.claude.pkg}@${REAL_CLIS.claude.version}`, () => {
  it.for(PERMISSION_LEVELS)('%s: takes the prompt on stdin (starting with "-"), the model, the level and Colony’s MCP server; fails only for lack of a login', async (permissions, ctx) => {
    if (!bin) return ctx.skip();
    const job = await sampleJob('claude', bin, { prompt: DASH_PROMPT, permissions, model: 'sonnet', repo: repo.dir });
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
