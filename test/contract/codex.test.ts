// Contract: the real Codex CLI, run exactly as Colony's adapter runs it.
import { describe, expect, it } from 'vitest';
import { PERMISSION_LEVELS } from '../../src/runner/agents/permissions.js';
import { runProcess } from '../../src/runner/process.js';
import { ARGUMENT_ERROR, DASH_PROMPT, contractFixture, REAL_CLIS, sampleJob } from './real-cli.js';

const cli = contractFixture('codex');

/** Codex retries a missing network for minutes; its first reconnect event, once the turn began, is proof enough. */
const NETWORK_ERROR = /^\{"type":"error".*(Reconnecting|stream disconnected|failed to lookup address|error sending request)/;

describe(`contract: ${REAL_CLIS.codex.pkg}@${REAL_CLIS.codex.version}`, () => {
  it.for(PERMISSION_LEVELS)('%s: takes the prompt on stdin (starting with "-"), the model, the level and Colony’s MCP server; fails only for the network', async (permissions, ctx) => {
    const bin = cli.bin;
    if (!bin) return ctx.skip();
    const job = await sampleJob('codex', bin, { prompt: DASH_PROMPT, permissions, model: 'gpt-5-codex', repo: cli.repo.dir });
    try {
      expect(job.invocation.args.join(' ')).not.toContain(DASH_PROMPT);
      const { stdout, stderr, stoppedEarly } = await job.run({ until: (l) => NETWORK_ERROR.test(l) });
      const all = [...stdout, ...stderr].join('\n');
      expect(all).not.toMatch(ARGUMENT_ERROR);
      expect(stoppedEarly, all).toBe(true);
      // The prompt was read and a turn begun: only then does codex reach for the network.
      expect(stdout.map((l) => (l.startsWith('{') ? JSON.parse(l).type : undefined))).toContain('turn.started');
    } finally {
      await job.cleanup();
    }
  });

  it('lists Colony’s bridge among its MCP servers under the same -c overrides (codex mcp get/list)', async (ctx) => {
    const bin = cli.bin;
    if (!bin) return ctx.skip();
    const job = await sampleJob('codex', bin, { prompt: 'p', permissions: 'edit', model: 'gpt-5-codex', repo: cli.repo.dir });
    try {
      const overrides = job.invocation.args.flatMap((a, i, all) => (all[i - 1] === '-c' ? ['-c', a] : []));
      expect(overrides).toHaveLength(4);
      const ask = async (args: string[]) => {
        const out: string[] = [];
        const err: string[] = [];
        const o = await runProcess({ bin: bin!, args: ['mcp', ...overrides, ...args], cwd: job.workspace, env: job.env, killGraceMs: 1000, timeoutMs: 60_000, onStdoutLine: (l) => out.push(l), onStderrLine: (l) => err.push(l) });
        expect(o.exitCode, err.join('\n')).toBe(0);
        return JSON.parse(out.join('\n'));
      };
      const got = await ask(['get', 'colony', '--json']);
      expect(got).toMatchObject({ name: 'colony', enabled: true, transport: { type: 'stdio', command: job.mcp.command, args: job.mcp.args } });
      const list = await ask(['list', '--json']);
      expect(list.map((s: { name: string }) => s.name)).toContain('colony');
    } finally {
      await job.cleanup();
    }
  });
});
