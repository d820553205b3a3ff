import type { ChildProcess } from 'node:child_process';
import { spawnColony, type ColonyProcess } from '../../bench/colony-process.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadConfig } from '../../src/daemon/config.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/lib/log.js';
import { colonyPaths } from '../../src/daemon/paths.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export { COLONY_BIN } from '../../src/lib/package-root.js';
export const FAKE_AGENTS = join(ROOT, 'test', 'fixtures', 'agents');
export const TEST_TOKEN = 'test-token-0123456789abcdef';

/** Fake agents configured by absolute path, so tests never depend on PATH. */
export function fakeAgents(): Record<string, unknown> {
  return {
    claude: { type: 'claude', bin: join(FAKE_AGENTS, 'claude'), models: ['sonnet', 'haiku'] },
    codex: { type: 'codex', bin: join(FAKE_AGENTS, 'codex') },
    gemini: { type: 'gemini', bin: join(FAKE_AGENTS, 'gemini') },
    missing: { type: 'claude', bin: 'colony-no-such-agent-binary' },
  };
}

/** A real daemon in this process on a free port, over a temp repository. */
export async function startTestDaemon(repo: string, overrides: Record<string, unknown> = {}): Promise<Daemon> {
  const config = loadConfig(repo, { port: 0, token: TEST_TOKEN, agents: fakeAgents(), kill_grace_ms: 500, ...overrides }, {});
  return startDaemon({ config, logger: silentLogger() });
}

/** Authenticated JSON fetch against a daemon. */
export async function api<T = any>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  token = TEST_TOKEN,
): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

/** Poll until fn returns a truthy value (or throw after timeoutMs): waits, not timing assertions. */
export async function waitUntil<T>(fn: () => T | Promise<T>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Wait for a job to reach a final status. */
export async function waitJob(url: string, id: string, timeoutMs = 20_000, token = TEST_TOKEN): Promise<any> {
  return waitUntil(
    async () => {
      const r = await api(url, 'GET', `/jobs/${id}`, undefined, token);
      return ['completed', 'failed', 'timed_out', 'cancelled'].includes(r.body.status) ? r.body : undefined;
    },
    timeoutMs,
    `job ${id} to finish`,
  );
}

/** `colony serve` as a real child process (built dist required); resolves once it listens. */
export function spawnDaemon(repo: string, args: string[] = [], env: Record<string, string> = {}): Promise<ColonyProcess> {
  return spawnColony(['serve', '--repo', repo, '--port', '0', ...args], { COLONY_TOKEN: TEST_TOKEN, COLONY_LOG_LEVEL: 'warn', ...env });
}

export function daemonInfo(repo: string): { pid: number; url: string } | undefined {
  const f = colonyPaths(repo).daemonInfo;
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : undefined;
}

/** Write `.colony/config.json` into a repository before its daemon starts. */
export function writeColonyConfig(repo: string, config: Record<string, unknown>): void {
  mkdirSync(join(repo, '.colony'), { recursive: true });
  writeFileSync(join(repo, '.colony', 'config.json'), JSON.stringify(config));
}

/** Signal a child process and wait for it to exit (at once if it already has). */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
