import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The installed package's root (where package.json, bin/ and web/ live), found by walking
 * up from this file: the same answer from src/ (tests) and dist/src/ (built).
 */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'colony.js'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('colony package root not found');
    dir = up;
  }
}

export const PACKAGE_ROOT = findRoot();
/** The `colony` executable script of this installation. */
export const COLONY_BIN = join(PACKAGE_ROOT, 'bin', 'colony.js');
