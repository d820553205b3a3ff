import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { colony } from '../helpers/cli.js';
import { ROOT } from '../helpers/daemon.js';
import { makeTempRepo } from '../helpers/repo.js';
import { VERSION } from '../../src/version.js';

/**
 * Runs the built CLI's main() in a child and reports which npm packages it loaded (CommonJS
 * packages, even when imported from ESM, land in require.cache).
 */
function packagesLoaded(args: string[], cwd: string): Promise<string[]> {
  const script = `
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    const { main } = await import(${JSON.stringify(join(ROOT, 'dist', 'src', 'cli', 'index.js'))});
    await main(['node', 'colony', ...${JSON.stringify(args)}]);
    const pkgs = Object.keys(require.cache).filter((k) => k.includes('/node_modules/')).map((k) => k.split('/node_modules/').pop().split('/').slice(0, k.split('/node_modules/').pop().startsWith('@') ? 2 : 1).join('/'));
    process.stderr.write('LOADED ' + JSON.stringify([...new Set(pkgs)]) + '\\n');
  `;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd, env: { ...process.env, COLONY_URL: '', COLONY_TOKEN: '' } }, (_err, _out, stderr) => {
      const line = stderr.split('\n').find((l) => l.startsWith('LOADED '));
      if (!line) reject(new Error(`no module list: ${stderr}`));
      else resolve(JSON.parse(line.slice('LOADED '.length)) as string[]);
    });
  });
}

const HEAVY = ['fastify', 'better-sqlite3', 'pino', 'piscina', '@modelcontextprotocol/sdk', 'cli-progress', 'pg'];

describe('the CLI loads only what a command needs', () => {
  it('--version prints the version; the help still lists every command group', async () => {
    const repo = makeTempRepo();
    try {
      expect(await colony(['--version'], repo.dir)).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
      const help = await colony(['--help'], repo.dir);
      expect(help.code).toBe(0);
      for (const group of ['serve', 'run', 'jobs', 'coord', 'task', 'mcp', 'hub', 'identity', 'memory']) expect(help.stdout).toMatch(new RegExp(`^  ${group}\\b`, 'm'));
      const sub = await colony(['jobs', '--help'], repo.dir);
      expect(sub.stdout).toMatch(/cancel/);
    } finally {
      repo.cleanup();
    }
  });

  it('--version, the pre-commit hook check and serve --help load none of the daemon’s packages', async () => {
    const repo = makeTempRepo();
    try {
      for (const args of [['--version'], ['coord', 'hook-check'], ['serve', '--help'], ['coord', 'check', 'a.ts']]) {
        const loaded = await packagesLoaded(args, repo.dir);
        expect({ args, heavy: loaded.filter((p) => HEAVY.includes(p)) }).toEqual({ args, heavy: [] });
      }
      // The check is not vacuous: the daemon's command does load them.
      expect(await packagesLoaded(['hub', 'keys', 'ls', '--db', `sqlite:${join(repo.dir, 'hub.db')}`], repo.dir)).toContain('better-sqlite3');
    } finally {
      repo.cleanup();
    }
  });
});
