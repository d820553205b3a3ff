/**
 * The real agent CLIs, from the npm registry, for the contract tests: each pinned version is
 * installed once into a cache outside the repository ($COLONY_CONTRACT_CACHE, else
 * $XDG_CACHE_HOME/colony-contract or ~/.cache/colony-contract) and reused. They are never
 * project dependencies. When the registry cannot be reached the tests skip with a notice,
 * except under CI=true, where that is a failure.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { adapterFor } from '../../src/runner/agents/index.js';
import type { AgentConfig } from '../../src/daemon/config.js';
import type { AgentInvocation } from '../../src/runner/agents/types.js';
import type { PermissionLevel } from '../../src/runner/agents/permissions.js';
import { placeAgentFiles } from '../../src/runner/agent-files.js';
import { runProcess, type ProcessOutcome } from '../../src/runner/process.js';
import { agentMcpServer } from '../../src/mcp/agent-config.js';
import { afterAll, beforeAll } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { makeTempRepo } from '../helpers/repo.js';

const execFileP = promisify(execFile);

export const REAL_CLIS = {
  claude: { pkg: '@anthropic-ai/claude-code', version: '2.1.197', bin: 'claude' },
  codex: { pkg: '@openai/codex', version: '0.171.0', bin: 'codex' },
  gemini: { pkg: '@google/gemini-cli', version: '0.61.0', bin: 'gemini' },
} as const;
export type RealCliName = keyof typeof REAL_CLIS;

/** Long enough for a first install of ~250 MB on a busy machine. */
export const INSTALL_TIMEOUT_MS = 8 * 60_000;

function cacheRoot(): string {
  return process.env.COLONY_CONTRACT_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'colony-contract');
}

/** Path of the installed CLI, installing it first if needed; undefined (after a notice) when the registry is unreachable outside CI. */
export async function realCli(name: RealCliName): Promise<string | undefined> {
  const { pkg, version, bin } = REAL_CLIS[name];
  const root = cacheRoot();
  const dir = join(root, `${pkg.replace('/', '+')}@${version}`);
  const binPath = join(dir, 'node_modules', '.bin', bin);
  const installed = (): boolean => {
    try {
      return existsSync(binPath) && JSON.parse(readFileSync(join(dir, 'node_modules', pkg, 'package.json'), 'utf8')).version === version;
    } catch {
      return false;
    }
  };
  if (installed()) return binPath;
  mkdirSync(root, { recursive: true });
  // Outside the repository, so its .npmrc and lock file play no part.
  const npm = (args: string[], timeout: number) => execFileP('npm', args, { cwd: root, timeout, maxBuffer: 64 * 1024 * 1024 });
  try {
    await npm(['view', `${pkg}@${version}`, 'version'], 60_000);
  } catch (err) {
    const why = `the npm registry is unreachable (${String((err as Error).message).split('\n')[0]})`;
    if (process.env.CI === 'true') throw new Error(`contract tests need ${pkg}@${version}: ${why}`);
    console.warn(`\n*** SKIPPED: contract tests for ${pkg}@${version}: ${why}; they run (and are required) under CI=true ***\n`);
    return undefined;
  }
  // Into a scratch directory, then renamed: a half-done install is never taken for a cached one.
  const scratch = `${dir}.installing-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  try {
    await npm(['install', '--prefix', scratch, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `${pkg}@${version}`], INSTALL_TIMEOUT_MS);
    if (!installed()) {
      rmSync(dir, { recursive: true, force: true });
      renameSync(scratch, dir);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return binPath;
}

/** A home with no credentials, and an environment without any API key: the CLIs can only fail for lack of them. */
export function credentialFreeEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/API_KEY|TOKEN|^ANTHROPIC_|^OPENAI_|^GEMINI_|^GOOGLE_|^CODEX_|^CLAUDE_/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache') };
}

export interface SampleJob {
  invocation: AgentInvocation;
  workspace: string;
  home: string;
  env: NodeJS.ProcessEnv;
  mcp: { command: string; args: string[] };
  /** Run the CLI as the runner does (prompt on stdin, own process group); `until` a stdout/stderr line ends it early. */
  run(opts?: { until?: (line: string) => boolean; timeoutMs?: number }): Promise<{ outcome: ProcessOutcome; stdout: string[]; stderr: string[]; stoppedEarly: boolean }>;
  cleanup(): Promise<void>;
}

/** A sample job for a real CLI, built by Colony's own adapter: its argv, env, files and stdin. */
export async function sampleJob(
  type: AgentConfig['type'],
  bin: string,
  opts: { prompt: string; permissions: PermissionLevel; model: string; repo: string },
): Promise<SampleJob> {
  const workspace = mkdtempSync(join(tmpdir(), 'colony-contract-ws-'));
  execFileSync('git', ['init', '-q', workspace]);
  const scratch = mkdtempSync(join(tmpdir(), 'colony-contract-job-'));
  const home = mkdtempSync(join(tmpdir(), 'colony-contract-home-'));
  const mcp = agentMcpServer({ repo: opts.repo });
  const config: AgentConfig = { type, bin, args: [], models: [], env: {}, permissions: opts.permissions };
  const invocation = adapterFor(type).invocation(config, {
    prompt: opts.prompt,
    model: opts.model,
    permissions: opts.permissions,
    workspace,
    scratchDir: scratch,
    mcp,
  });
  const files = await placeAgentFiles(invocation.files ?? [], workspace);
  const env = { ...credentialFreeEnv(home), ...invocation.env };
  return {
    invocation,
    workspace,
    home,
    env,
    mcp,
    async run(o = {}) {
      const stdout: string[] = [];
      const stderr: string[] = [];
      const stop = new AbortController();
      let stoppedEarly = false;
      const watch = (into: string[]) => (line: string) => {
        into.push(line);
        if (!stoppedEarly && o.until?.(line)) {
          stoppedEarly = true;
          stop.abort();
        }
      };
      const outcome = await runProcess({
        bin: invocation.bin,
        args: invocation.args,
        stdin: invocation.stdin,
        cwd: workspace,
        env,
        timeoutMs: o.timeoutMs ?? 120_000,
        killGraceMs: 2000,
        signal: stop.signal,
        onStdoutLine: watch(stdout),
        onStderrLine: watch(stderr),
      });
      return { outcome, stdout, stderr, stoppedEarly };
    },
    async cleanup() {
      await files.restore();
      for (const d of [workspace, scratch, home]) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** What every CLI says when it does not understand its arguments. */
export const ARGUMENT_ERROR = /unknown option|unexpected argument|Unknown argument|Invalid values|unrecognized|error: invalid value|Usage:/i;

/** A prompt that starts like an option, as a user may well write one. */
export const DASH_PROMPT = '--verbose output is too noisy: make the logger quiet by default';

export interface ContractFixture {
  /** The installed CLI, or undefined when the registry could not be reached (tests skip). */
  bin: string | undefined;
  repo: ReturnType<typeof makeTempRepo>;
  daemon: Daemon;
}

/** The CLI installed, a repository and a daemon serving it, for one contract test file. */
export function contractFixture(name: RealCliName): ContractFixture {
  const f = {} as ContractFixture;
  beforeAll(async () => {
    f.bin = await realCli(name);
    f.repo = makeTempRepo();
    f.daemon = await startTestDaemon(f.repo.dir);
  }, INSTALL_TIMEOUT_MS + 60_000);
  afterAll(async () => {
    await f.daemon?.close();
    f.repo?.cleanup();
  });
  return f;
}
