import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adapterFor } from '../../src/runner/agents/index.js';
import { runProcess, type ProcessOutcome } from '../../src/runner/process.js';
import type { AgentConfig } from '../../src/daemon/config.js';
import type { AgentEvent } from '../../src/runner/types.js';
import { FAKE_AGENTS, waitUntil } from '../helpers/daemon.js';
import { tempDir } from '../helpers/repo.js';
import { alive } from '../helpers/cli.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.forEach((c) => c());
  cleanups = [];
});

const cfg = (type: AgentConfig['type'], extra: Partial<AgentConfig> = {}): AgentConfig => ({
  type,
  args: [],
  models: [],
  env: {},
  ...extra,
});

/** Run an adapter's real CLI (a fake executable) and collect its events. */
async function runAgent(
  type: AgentConfig['type'],
  prompt: string,
  extra: Partial<AgentConfig> = {},
): Promise<{ events: AgentEvent[]; outcome: ProcessOutcome }> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const adapter = adapterFor(type);
  const bin = type === 'command' ? {} : { bin: join(FAKE_AGENTS, type) };
  const inv = adapter.invocation(cfg(type, { ...bin, ...extra }), { prompt, model: null });
  const parser = adapter.createParser();
  const events: AgentEvent[] = [];
  const outcome = await runProcess({
    ...inv,
    cwd: t.dir,
    env: process.env,
    killGraceMs: 500,
    onStdoutLine: (l) => events.push(...parser.line(l)),
    onStderrLine: () => undefined,
  });
  events.push(...parser.end(outcome.exitCode));
  return { events, outcome };
}

const resultOf = (events: AgentEvent[]) => events.filter((e) => e.type === 'result').at(-1) as Extract<AgentEvent, { type: 'result' }>;

describe('agent adapters', () => {
  it('build the documented command lines', () => {
    const mcp = { command: '/usr/bin/node', args: ['/opt/colony/bin/colony.js', 'mcp', '--repo', '/r "q"'], configFile: '/tmp/mcp.json', geminiSettingsFile: '/tmp/gemini.json' };
    const req = { prompt: 'do it', model: 'haiku', mcp };
    expect(adapterFor('claude').invocation(cfg('claude'), req)).toEqual({
      bin: 'claude',
      args: ['-p', 'do it', '--output-format', 'stream-json', '--verbose', '--model', 'haiku', '--mcp-config', '/tmp/mcp.json'],
    });
    expect(adapterFor('codex').invocation(cfg('codex'), { prompt: 'p', model: null })).toEqual({ bin: 'codex', args: ['exec', '--json', 'p'] });
    expect(adapterFor('codex').invocation(cfg('codex'), { prompt: 'p', mcp })).toEqual({
      bin: 'codex',
      args: ['exec', '--json', '-c', 'mcp_servers.colony.command="/usr/bin/node"', '-c', 'mcp_servers.colony.args=["/opt/colony/bin/colony.js","mcp","--repo","/r \\"q\\""]', 'p'],
    });
    expect(adapterFor('gemini').invocation(cfg('gemini'), { prompt: 'p', model: 'm' })).toEqual({
      bin: 'gemini',
      args: ['-p', 'p', '--output-format', 'stream-json', '-m', 'm'],
    });
    expect(adapterFor('gemini').invocation(cfg('gemini'), { prompt: 'p', mcp })).toEqual({
      bin: 'gemini',
      args: ['-p', 'p', '--output-format', 'stream-json'],
      env: { GEMINI_CLI_SYSTEM_SETTINGS_PATH: '/tmp/gemini.json' },
    });
    expect(adapterFor('aider').invocation(cfg('aider', { args: ['--no-git'] }), { prompt: 'p' })).toEqual({
      bin: 'aider',
      args: ['--message', 'p', '--yes-always', '--no-git'],
    });
  });

  it('substitutes {prompt} inside argv elements without a shell, or sends the prompt on stdin', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const marker = join(t.dir, 'pwned');
    const nasty = `$(touch ${marker}); rm -rf / --no-preserve-root`;
    const withArg = await runAgent('command', nasty, { argv: ['node', '-e', 'console.log(process.argv[1])', '--', '{prompt}'] });
    expect(resultOf(withArg.events).text).toBe(nasty);
    expect(existsSync(marker)).toBe(false);
    const inv = adapterFor('command').invocation(cfg('command', { argv: ['cat'] }), { prompt: 'via stdin' });
    expect(inv.stdin).toBe('via stdin');
    const viaStdin = await runAgent('command', 'via stdin', { argv: ['cat'] });
    expect(resultOf(viaStdin.events).text).toBe('via stdin');
  });

  it('parse claude stream-json from the CLI into init, text, tool use, tool result and a result with usage', async () => {
    const { events, outcome } = await runAgent('claude', 'hello [edit:f.txt]');
    expect(outcome.exitCode).toBe(0);
    expect(events.map((e) => e.type)).toEqual(['init', 'text', 'tool_use', 'tool_result', 'result']);
    expect(resultOf(events)).toMatchObject({
      text: 'done: hello [edit:f.txt]',
      cost_usd: 0.0012,
      is_error: false,
      usage: { input_tokens: 11, output_tokens: 7, cache_read_input_tokens: 3, total_cost_usd: 0.0012, num_turns: 1 },
    });
    expect(resultOf((await runAgent('claude', 'x [error]')).events).is_error).toBe(true);
  });

  it('parse codex, gemini and aider output', async () => {
    const codex = await runAgent('codex', 'task');
    expect(resultOf(codex.events)).toMatchObject({ text: 'codex did: task', usage: { input_tokens: 20, output_tokens: 9 } });
    expect(codex.events.some((e) => e.type === 'tool_use')).toBe(true);
    const gemini = await runAgent('gemini', 'task');
    expect(resultOf(gemini.events)).toMatchObject({ text: 'gemini did: task', usage: { input_tokens: 30, output_tokens: 4 } });
    expect(gemini.events.filter((e) => e.type === 'text')).toHaveLength(2);
    const aider = await runAgent('aider', 'task');
    expect(resultOf(aider.events).text).toBe('Aider v0.0 fake\nApplied edit for: task');
  });

  it('ignore non-JSON noise in JSON formats', () => {
    const p = adapterFor('claude').createParser();
    expect(p.line('Warning: something')).toEqual([]);
    expect(p.line('{broken')).toEqual([]);
    expect(p.line('[1,2]')).toEqual([]);
  });
});

describe('runProcess', () => {

  it('reports a missing binary', async () => {
    const o = await runProcess({
      bin: 'colony-definitely-missing',
      args: [],
      cwd: process.cwd(),
      env: process.env,
      killGraceMs: 100,
      onStdoutLine: () => undefined,
      onStderrLine: () => undefined,
    });
    expect(o.notFound).toBe(true);
  });

  it('splits lines across chunks and keeps a last line without newline', async () => {
    const lines: string[] = [];
    await runProcess({
      bin: process.execPath,
      args: ['-e', "process.stdout.write('a\\r\\nb'); setTimeout(() => process.stdout.write('c\\nlast'), 20)"],
      cwd: process.cwd(),
      env: process.env,
      killGraceMs: 100,
      onStdoutLine: (l) => lines.push(l),
      onStderrLine: () => undefined,
    });
    expect(lines).toEqual(['a', 'bc', 'last']);
  });

  it('on timeout escalates SIGTERM to SIGKILL for the whole group; no grandchild survives', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const started = join(t.dir, 'started');
    const gc = join(t.dir, 'gc');
    const o = await runProcess({
      bin: join(FAKE_AGENTS, 'claude'),
      args: ['-p', `x [ignore-term] [started:${started}] [grandchild:${gc}] [block:${t.dir}/never]`, '--output-format', 'stream-json', '--verbose'],
      cwd: t.dir,
      env: process.env,
      timeoutMs: 3000,
      killGraceMs: 300,
      onStdoutLine: () => undefined,
      onStderrLine: () => undefined,
    });
    expect(o.timedOut).toBe(true);
    expect(o.signal).toBe('SIGKILL');
    const pids = [Number(readFileSync(started, 'utf8')), Number(readFileSync(gc, 'utf8'))];
    await waitUntil(() => pids.every((p) => !alive(p)), 5000, 'group to be gone');
  });

  it('cancels on abort', async () => {
    const ctrl = new AbortController();
    const p = runProcess({
      bin: 'sleep',
      args: ['30'],
      cwd: process.cwd(),
      env: process.env,
      killGraceMs: 300,
      signal: ctrl.signal,
      onStdoutLine: () => undefined,
      onStderrLine: () => undefined,
    });
    setTimeout(() => ctrl.abort(), 100);
    const o = await p;
    expect(o).toMatchObject({ cancelled: true, timedOut: false, signal: 'SIGTERM' });
  });
});
