import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { adapterFor, type AgentRunRequest } from '../../src/runner/agents/index.js';
import { EDIT_SHELL_COMMANDS, PERMISSION_LEVELS, type PermissionLevel } from '../../src/runner/agents/permissions.js';
import { placeAgentFiles } from '../../src/runner/agent-files.js';
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
  permissions: 'edit',
  ...extra,
});

const req = (prompt: string, extra: Partial<AgentRunRequest> = {}): AgentRunRequest => ({
  prompt,
  model: null,
  permissions: 'edit',
  workspace: '/w',
  scratchDir: '/s',
  ...extra,
});

/** Run an adapter's real CLI (a fake executable) in a git checkout, its files placed as the runner places them, and collect its events. */
async function runAgent(
  type: AgentConfig['type'],
  prompt: string,
  extra: Partial<AgentConfig> = {},
  request: Partial<AgentRunRequest> = {},
): Promise<{ events: AgentEvent[]; outcome: ProcessOutcome; stderr: string[]; dir: string }> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  execFileSync('git', ['init', '-q', t.dir]);
  const scratch = tempDir();
  cleanups.push(scratch.cleanup);
  const adapter = adapterFor(type);
  const bin = type === 'command' ? {} : { bin: join(FAKE_AGENTS, type) };
  const inv = adapter.invocation(cfg(type, { ...bin, ...extra }), req(prompt, { workspace: t.dir, scratchDir: scratch.dir, ...request }));
  const files = await placeAgentFiles(inv.files ?? [], t.dir);
  const parser = adapter.createParser();
  const events: AgentEvent[] = [];
  const stderr: string[] = [];
  const outcome = await runProcess({
    ...inv,
    cwd: t.dir,
    env: { ...process.env, ...inv.env },
    killGraceMs: 500,
    onStdoutLine: (l) => events.push(...parser.line(l)),
    onStderrLine: (l) => stderr.push(l),
  });
  events.push(...parser.end(outcome.exitCode));
  await files.restore();
  return { events, outcome, stderr, dir: t.dir };
}

const resultOf = (events: AgentEvent[]) => events.filter((e) => e.type === 'result').at(-1) as Extract<AgentEvent, { type: 'result' }>;

describe('agent adapters', () => {
  const mcp = { command: '/usr/bin/node', args: ['/opt/colony/bin/colony.js', 'mcp', '--repo', '/r "q"'] };
  const mcpJson = JSON.stringify({ mcpServers: { colony: mcp } });
  const claudeEdit = ['--permission-mode', 'acceptEdits', '--allowedTools', EDIT_SHELL_COMMANDS.map((c) => `Bash(${c}:*)`).join(',')];

  it('build the documented command lines, the prompt on stdin and never in argv', () => {
    expect(adapterFor('claude').invocation(cfg('claude'), req('do it', { model: 'haiku', mcp }))).toEqual({
      bin: 'claude',
      args: ['-p', '--output-format', 'stream-json', '--verbose', ...claudeEdit, '--model', 'haiku', '--mcp-config', mcpJson],
      stdin: 'do it',
    });
    expect(adapterFor('codex').invocation(cfg('codex'), req('p'))).toEqual({ bin: 'codex', args: ['exec', '--json', '--sandbox', 'workspace-write', '-'], stdin: 'p' });
    expect(adapterFor('codex').invocation(cfg('codex'), req('p', { mcp }))).toEqual({
      bin: 'codex',
      args: ['exec', '--json', '--sandbox', 'workspace-write', '-c', 'mcp_servers.colony.command="/usr/bin/node"', '-c', 'mcp_servers.colony.args=["/opt/colony/bin/colony.js","mcp","--repo","/r \\"q\\""]', '-'],
      stdin: 'p',
    });
    const gemini = adapterFor('gemini').invocation(cfg('gemini'), req('p', { model: 'm', mcp }));
    expect(gemini).toMatchObject({
      bin: 'gemini',
      args: ['--output-format', 'stream-json', '--approval-mode', 'auto_edit', '--policy', '/s/gemini-policy.toml', '--model', 'm'],
      stdin: 'p',
      env: { GEMINI_CLI_TRUST_WORKSPACE: 'true' },
    });
    expect(gemini.files).toEqual([
      { path: '/s/gemini-policy.toml', content: expect.stringContaining('toolName = "run_shell_command"') },
      { path: '/w/.gemini/settings.json', content: JSON.stringify({ mcpServers: { colony: { ...mcp, trust: true, timeout: 600_000 } } }, null, 2) + '\n', mergeJson: true },
    ]);
    expect(adapterFor('aider').invocation(cfg('aider', { args: ['--no-git'] }), req('p'))).toEqual({
      bin: 'aider',
      args: ['--message-file', '/s/aider-message.txt', '--yes-always', '--no-git'],
      files: [{ path: '/s/aider-message.txt', content: 'p' }],
    });
    for (const type of ['claude', 'codex', 'gemini', 'aider'] as const) {
      for (const permissions of PERMISSION_LEVELS) {
        expect(adapterFor(type).invocation(cfg(type), req('--secret-prompt', { permissions })).args).not.toContain('--secret-prompt');
      }
    }
  });

  it('map each permission level to the CLI’s own flags', () => {
    const args = (type: AgentConfig['type'], permissions: PermissionLevel) => adapterFor(type).invocation(cfg(type), req('p', { permissions }));
    expect(args('claude', 'read_only').args).toEqual(['-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', 'dontAsk']);
    expect(args('claude', 'edit').args).toEqual(['-p', '--output-format', 'stream-json', '--verbose', ...claudeEdit]);
    expect(args('claude', 'full')).toMatchObject({ args: ['-p', '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions'], env: { IS_SANDBOX: '1' } });
    expect(args('codex', 'read_only').args).toEqual(['exec', '--json', '--sandbox', 'read-only', '-']);
    expect(args('codex', 'full').args).toEqual(['exec', '--json', '--dangerously-bypass-approvals-and-sandbox', '-']);
    expect(args('gemini', 'read_only').args).toEqual(['--output-format', 'stream-json', '--approval-mode', 'plan']);
    expect(args('gemini', 'full').args).toEqual(['--output-format', 'stream-json', '--approval-mode', 'yolo']);
    expect(args('aider', 'read_only').args).toContain('--dry-run');
  });

  it.each(['claude', 'codex', 'gemini', 'aider'] as const)('%s: a prompt starting with "-" and a 1 MiB prompt reach the CLI whole', async (type) => {
    const dash = '--verbose output is too noisy, make it quiet';
    const small = await runAgent(type, dash);
    expect(small.outcome.exitCode, small.stderr.join('\n')).toBe(0);
    expect(resultOf(small.events).text).toContain(dash);
    const big = '-'.repeat(16) + 'x'.repeat(1024 * 1024 - 32) + '-'.repeat(16);
    const large = await runAgent(type, big);
    expect(large.outcome.exitCode, large.stderr.join('\n')).toBe(0);
    expect(resultOf(large.events).text).toContain(big);
  });

  it.each([
    ['claude', ['-p', '--output-format', 'stream-json', '--verbose'], "unknown option '--verbose output is too noisy'"],
    ['codex', ['exec', '--json'], "unexpected argument '--verbose output is too noisy'"],
    ['gemini', ['--output-format', 'stream-json'], 'Unknown argument: verbose output is too noisy'],
    ['aider', ['--message-file', '/dev/null', '--yes-always'], 'unrecognized arguments: --verbose output is too noisy'],
  ])('the fake %s, like the real CLI, refuses a prompt starting with "-" given in argv', async (type, args, message) => {
    const stderr: string[] = [];
    const o = await runProcess({
      bin: join(FAKE_AGENTS, type),
      args: [...args, '--verbose output is too noisy'],
      cwd: process.cwd(),
      env: { ...process.env, GEMINI_CLI_TRUST_WORKSPACE: 'true' },
      killGraceMs: 100,
      onStdoutLine: () => undefined,
      onStderrLine: (l) => stderr.push(l),
    });
    expect(o.exitCode).not.toBe(0);
    expect(stderr.join('\n')).toContain(message);
  });

  it('gemini: Colony’s MCP server in the workspace’s .gemini/settings.json, hidden from git and removed after the run; a project’s own settings kept', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const envFile = join(t.dir, 'env.json');
    const run = await runAgent('gemini', `go [env:${envFile}]`, {}, { mcp });
    expect(run.outcome.exitCode, run.stderr.join('\n')).toBe(0);
    const seen = JSON.parse(readFileSync(envFile, 'utf8'));
    expect(seen).toMatchObject({ mcp_servers: ['colony'], approval: 'auto_edit' });
    expect(seen.policy).toContain('commandPrefix = ["git", "npm"');
    expect(existsSync(join(run.dir, '.gemini', 'settings.json'))).toBe(false);
    expect(readFileSync(join(run.dir, '.git', 'info', 'exclude'), 'utf8')).toContain('/.gemini/settings.json');

    // A repository with its own tracked settings: merged for the run, untouched in git, restored after.
    const repo = tempDir();
    cleanups.push(repo.cleanup);
    execFileSync('git', ['init', '-q', repo.dir]);
    mkdirSync(join(repo.dir, '.gemini'));
    const own = JSON.stringify({ mcpServers: { theirs: { command: 'x' } }, ui: { theme: 'Dark' } });
    writeFileSync(join(repo.dir, '.gemini', 'settings.json'), own);
    execFileSync('git', ['add', '.'], { cwd: repo.dir });
    execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', 'commit', '-qm', 'own settings'], { cwd: repo.dir });
    const inv = adapterFor('gemini').invocation(cfg('gemini'), req('p', { workspace: repo.dir, scratchDir: repo.dir + '/.s', mcp }));
    const placed = await placeAgentFiles(inv.files!, repo.dir);
    const merged = JSON.parse(readFileSync(join(repo.dir, '.gemini', 'settings.json'), 'utf8'));
    expect(Object.keys(merged.mcpServers)).toEqual(['theirs', 'colony']);
    expect(merged.ui).toEqual({ theme: 'Dark' });
    execFileSync('git', ['add', '-A'], { cwd: repo.dir });
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: repo.dir, encoding: 'utf8' })).toBe('');
    await placed.restore();
    expect(readFileSync(join(repo.dir, '.gemini', 'settings.json'), 'utf8')).toBe(own);
  });

  it('substitutes {prompt} inside argv elements without a shell, or sends the prompt on stdin', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const marker = join(t.dir, 'pwned');
    const nasty = `$(touch ${marker}); rm -rf / --no-preserve-root`;
    const withArg = await runAgent('command', nasty, { argv: ['node', '-e', 'console.log(process.argv[1])', '--', '{prompt}'] });
    expect(resultOf(withArg.events).text).toBe(nasty);
    expect(existsSync(marker)).toBe(false);
    const inv = adapterFor('command').invocation(cfg('command', { argv: ['cat'] }), req('via stdin'));
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
