import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { colony } from '../helpers/cli.js';
import { COLONY_BIN } from '../helpers/daemon.js';
import { tempDir } from '../helpers/repo.js';

// The real agent CLIs, as the contract suite caches them (pinned, outside the repository).
const CACHE = process.env.COLONY_CONTRACT_CACHE || join(homedir(), '.cache', 'colony-contract');
const BINS = {
  claude: join(CACHE, '@anthropic-ai+claude-code@2.1.197', 'node_modules', '.bin', 'claude'),
  codex: join(CACHE, '@openai+codex@0.171.0', 'node_modules', '.bin', 'codex'),
  gemini: join(CACHE, '@google+gemini-cli@0.61.0', 'node_modules', '.bin', 'gemini'),
};

function run(bin: string, args: string[], cwd: string, home: string): Promise<{ code: number; out: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd, timeout: 90_000, env: { ...process.env, HOME: home, CLAUDE_CONFIG_DIR: '', CODEX_HOME: '' } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr, stdout }),
    );
  });
}

const cmdline = `${process.execPath} ${COLONY_BIN} mcp`;

describe('colony mcp install, read back by the real agent CLIs', () => {
  for (const [client, bin] of Object.entries(BINS)) {
    const installed = existsSync(bin);
    if (!installed) console.warn(`[contract] ${client} not installed under ${CACHE}: skipping its mcp install check`);
    it.skipIf(!installed)(`${client} lists Colony's bridge after colony mcp install ${client}`, { timeout: 180_000 }, async () => {
      const home = tempDir();
      // Not a git repository: claude's health check starts the bridge, which fails at once here instead of starting a daemon.
      const cwd = tempDir();
      try {
        const r = await colony(['mcp', 'install', client], cwd.dir, { env: { HOME: home.dir, CLAUDE_CONFIG_DIR: '', CODEX_HOME: '' } });
        expect(r.code).toBe(0);
        if (client === 'codex') {
          const got = await run(bin, ['mcp', 'get', 'colony', '--json'], cwd.dir, home.dir);
          expect(got.code, got.out).toBe(0);
          const json = JSON.parse(got.stdout);
          expect(json).toMatchObject({ name: 'colony', enabled: true, transport: { type: 'stdio', command: process.execPath, args: [COLONY_BIN, 'mcp'] } });
        } else if (client === 'gemini') {
          const got = await run(bin, ['mcp', 'list'], cwd.dir, home.dir);
          expect(got.out).toContain(`colony: ${cmdline} (stdio)`);
        } else {
          const got = await run(bin, ['mcp', 'get', 'colony'], cwd.dir, home.dir);
          expect(got.out).toMatch(/Scope: User config/);
          expect(got.out).toContain(`Command: ${process.execPath}`);
          expect(got.out).toContain(`Args: ${COLONY_BIN} mcp`);
        }
      } finally {
        home.cleanup();
        cwd.cleanup();
      }
    });
  }
});
