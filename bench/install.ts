// `npm ci --omit=dev` of Colony's default configuration in a clean directory (the package
// files only), against installing better-sqlite3 alone at the locked version in the same run:
// compiling it from source is most of the time, and how fast this machine compiles sets the
// time budget. The size budget is in bytes, the same on every machine.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/lib/package-root.js';
import type { BenchResult } from './lib.js';

/** DESIGN.md: the default install in ≤ 2 minutes here, where better-sqlite3 alone installs in about 58 s (compiling; measured on an idle machine of this kind). */
const INSTALL_BUDGET_S = 120;
const TYPICAL_NATIVE_S = 58;
const SIZE_BUDGET_MB = 150;

/** Seconds `npm <args>` takes in `dir`; fails loudly if npm fails. */
function npm(dir: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed in ${dir}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Bytes of the regular files under `dir` (symlinks not followed). */
function treeBytes(dir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) bytes += treeBytes(p);
    else if (st.isFile()) bytes += st.size;
  }
  return bytes;
}

function packageCount(dir: string): number {
  const lock = JSON.parse(readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  return Object.keys(lock.packages).filter((k) => k.startsWith('node_modules/')).length;
}

export default async function run(): Promise<BenchResult[]> {
  const full = realpathSync(mkdtempSync(join(tmpdir(), 'colony-bench-install-')));
  const native = realpathSync(mkdtempSync(join(tmpdir(), 'colony-bench-native-')));
  try {
    for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(PACKAGE_ROOT, f), join(full, f));
    const lock = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
    const version = lock.packages['node_modules/better-sqlite3']!.version;
    // npm 11 skips dependencies' install scripts unless allowScripts names them (Colony's
    // package.json does): without it the baseline would not compile anything.
    writeFileSync(
      join(native, 'package.json'),
      JSON.stringify({ name: 'native-baseline', version: '1.0.0', private: true, dependencies: { 'better-sqlite3': version }, allowScripts: { 'better-sqlite3': true } }),
    );
    const nativeS = npm(native, ['install']);
    const fullS = npm(full, ['ci', '--omit=dev']);
    for (const dir of [native, full]) {
      if (!existsSync(join(dir, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))) throw new Error(`better-sqlite3 was not compiled in ${dir}`);
    }
    const mb = treeBytes(join(full, 'node_modules')) / 1e6;
    return [
      { name: `install better-sqlite3 ${version} alone (compiles from source; the baseline)`, measured: nativeS, unit: 's', kind: 'info' },
      {
        name: 'npm ci --omit=dev of the default configuration, clean directory',
        measured: fullS,
        unit: 's',
        budget: (INSTALL_BUDGET_S * nativeS) / TYPICAL_NATIVE_S,
        kind: 'max',
        note: `${(fullS / nativeS).toFixed(2)}× better-sqlite3 alone; ${INSTALL_BUDGET_S} s where that takes ${TYPICAL_NATIVE_S} s; ${packageCount(full)} packages`,
      },
      { name: 'node_modules of that install', measured: mb, unit: 'MB', budget: SIZE_BUDGET_MB, kind: 'max', note: 'bytes of regular files' },
    ];
  } finally {
    rmSync(full, { recursive: true, force: true });
    rmSync(native, { recursive: true, force: true });
  }
}
