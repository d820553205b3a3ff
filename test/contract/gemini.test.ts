// Contract: the real Gemini CLI, run exactly as Colony's adapter runs it.
import { describe, expect, it } from 'vitest';
import { PERMISSION_LEVELS } from '../../src/runner/agents/permissions.js';
import { runProcess } from '../../src/runner/process.js';
import { ARGUMENT_ERROR, DASH_PROMPT, contractFixture, REAL_CLIS, sampleJob } from './real-cli.js';

const cli = contractFixture('gemini');

/** Anything gemini says about a setting, policy or folder it did not accept. */
const CONFIG_COMPLAINT = /Security Warning|is insecure|Skipping|Policy file (error|warning)|not running in a trusted directory|Invalid approval mode/i;

describe(`contract: ${REAL_CLIS.gemini.pkg}@${REAL_CLIS.gemini.version}`, () => {
  it.for(PERMISSION_LEVELS)('%s: takes the prompt on stdin (starting with "-"), the model, the level and its settings; fails only for lack of credentials (exit 41)', async (permissions, ctx) => {
    const bin = cli.bin;
    if (!bin) return ctx.skip();
    const job = await sampleJob('gemini', bin, { prompt: DASH_PROMPT, permissions, model: 'gemini-2.5-pro', repo: cli.repo.dir });
    try {
      expect(job.invocation.args.join(' ')).not.toContain(DASH_PROMPT);
      const { outcome, stdout, stderr } = await job.run();
      const all = [...stdout, ...stderr].join('\n');
      expect(all).not.toMatch(ARGUMENT_ERROR);
      expect(all).not.toMatch(CONFIG_COMPLAINT);
      expect(outcome.exitCode, all).toBe(41);
      expect(all).toMatch(/Auth method|GEMINI_API_KEY/);
    } finally {
      await job.cleanup();
    }
  });

  it('lists Colony’s bridge, connected, among its MCP servers in the job’s workspace (gemini mcp list)', async (ctx) => {
    const bin = cli.bin;
    if (!bin) return ctx.skip();
    const job = await sampleJob('gemini', bin, { prompt: 'p', permissions: 'edit', model: 'gemini-2.5-pro', repo: cli.repo.dir });
    try {
      const out: string[] = [];
      const o = await runProcess({ bin, args: ['mcp', 'list'], cwd: job.workspace, env: job.env, killGraceMs: 1000, timeoutMs: 90_000, onStdoutLine: (l) => out.push(l), onStderrLine: (l) => out.push(l) });
      const text = out.join('\n');
      expect(o.exitCode, text).toBe(0);
      expect(text).not.toMatch(CONFIG_COMPLAINT);
      const line = out.find((l) => l.includes('colony:'));
      expect(line, text).toBeDefined();
      expect(line).toContain(job.mcp.args[0]!);
      expect(line).toContain('Connected');
    } finally {
      await job.cleanup();
    }
  });
});
