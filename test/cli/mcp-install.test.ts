import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { colony } from '../helpers/cli.js';
import { COLONY_BIN } from '../helpers/daemon.js';
import { tempDir } from '../helpers/repo.js';

let home: { dir: string; cleanup: () => void };
afterEach(() => home?.cleanup());

/** `colony mcp install` with HOME (and nothing else) pointing at a temp dir. */
const install = (args: string[]) => colony(['mcp', 'install', ...args], home.dir, { env: { HOME: home.dir, CLAUDE_CONFIG_DIR: '', CODEX_HOME: '' } });
const entry = { command: process.execPath, args: [COLONY_BIN, 'mcp'] };

describe('colony mcp install', () => {
  it('claude: adds mcpServers.colony to ~/.claude.json, keeping everything else; a second run changes nothing', async () => {
    home = tempDir();
    const file = join(home.dir, '.claude.json');
    writeFileSync(file, JSON.stringify({ userID: 'u1', mcpServers: { other: { type: 'stdio', command: 'x', args: [] } }, projects: { '/p': {} } }), { mode: 0o600 });
    const first = await install(['claude']);
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toBe(`registered colony with claude in ${file}: ${entry.command} ${entry.args.join(' ')}\n`);
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    expect(doc).toEqual({
      userID: 'u1',
      projects: { '/p': {} },
      mcpServers: { other: { type: 'stdio', command: 'x', args: [] }, colony: { type: 'stdio', ...entry, env: {} } },
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const before = readFileSync(file, 'utf8');
    const second = await install(['claude', '--json']);
    expect(JSON.parse(second.stdout)).toMatchObject({ client: 'claude', file, action: 'unchanged', entry, dry_run: false });
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect((await install(['claude'])).stdout).toMatch(/^colony is already registered with claude in .*; nothing changed\n$/);
  });

  it('codex: writes [mcp_servers.colony] into config.toml, replacing only that table and keeping comments', async () => {
    home = tempDir();
    const file = join(home.dir, '.codex', 'config.toml');
    mkdirSync(join(home.dir, '.codex'));
    writeFileSync(file, '# my settings\nmodel = "o4"\n\n[mcp_servers.colony]\ncommand = "npx"\nargs = ["colony", "mcp"]\n\n[mcp_servers.docs]\ncommand = "docs-mcp" # keep\n');
    const r = JSON.parse((await install(['codex', '--json'])).stdout);
    expect(r).toMatchObject({ action: 'updated', previous: '[mcp_servers.colony]\ncommand = "npx"\nargs = ["colony", "mcp"]' });
    expect(readFileSync(file, 'utf8')).toBe(
      `# my settings\nmodel = "o4"\n\n[mcp_servers.colony]\ncommand = ${JSON.stringify(entry.command)}\nargs = [${entry.args.map((a) => JSON.stringify(a)).join(', ')}]\n\n[mcp_servers.docs]\ncommand = "docs-mcp" # keep\n`,
    );
    const again = JSON.parse((await install(['codex', '--json'])).stdout);
    expect(again.action).toBe('unchanged');
  });

  it('gemini: creates ~/.gemini/settings.json with mcpServers.colony', async () => {
    home = tempDir();
    const r = await install(['gemini']);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(home.dir, '.gemini', 'settings.json'), 'utf8'))).toEqual({ mcpServers: { colony: entry } });
  });

  it('--dry-run writes nothing; an unknown agent or a broken config file is an error that names it', async () => {
    home = tempDir();
    const dry = await install(['codex', '--dry-run']);
    expect(dry.stdout).toMatch(/^would register colony with codex in .*config\.toml: /);
    expect(existsSync(join(home.dir, '.codex'))).toBe(false);
    const unknown = await install(['cursor']);
    expect(unknown).toMatchObject({ code: 1, stderr: "colony: unknown agent 'cursor'; colony mcp install knows claude, codex, gemini\n" });
    writeFileSync(join(home.dir, '.claude.json'), '{"userID": ');
    const broken = await install(['claude']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/\.claude\.json is not valid JSON .*; fix it, then run this again/);
    expect(readFileSync(join(home.dir, '.claude.json'), 'utf8')).toBe('{"userID": ');
  });
});
