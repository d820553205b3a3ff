#!/usr/bin/env node
// `npm start`: compile only when a source file is newer than its output (or has none), and
// say so; otherwise start at once. `npm run build` always compiles.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_DIRS = ['src', 'bench']; // what tsconfig.json compiles

function* sources(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) yield p;
  }
}

/** The first source whose output is missing or older, or undefined when all are current. */
function staleSource() {
  const config = statSync(join(root, 'tsconfig.json')).mtimeMs;
  for (const d of SOURCE_DIRS) {
    if (!existsSync(join(root, d))) continue;
    for (const src of sources(join(root, d))) {
      const out = join(root, 'dist', relative(root, src)).replace(/\.ts$/, '.js');
      if (!existsSync(out)) return `${relative(root, src)} has not been compiled`;
      const built = statSync(out).mtimeMs;
      if (statSync(src).mtimeMs > built) return `${relative(root, src)} changed`;
      if (config > built) return 'tsconfig.json changed';
    }
  }
  return undefined;
}

const why = staleSource();
if (!why) {
  process.stderr.write('colony: dist/ is up to date, not rebuilding\n');
} else {
  process.stderr.write(`colony: compiling TypeScript into dist/ (${why})…\n`);
  const t0 = Date.now();
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write('colony: the build failed (errors above)\n');
    process.exit(r.status ?? 1);
  }
  process.stderr.write(`colony: built in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
