import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/daemon.js';
import { tempDir } from '../helpers/repo.js';

function start(dir: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(dir, 'scripts', 'build-if-stale.js')], { cwd: dir }, (err, _out, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

describe('npm start builds only what is out of date, and says so', () => {
  it('compiles a project never built, skips an up-to-date one, recompiles after a change, reports a failed build', { timeout: 240_000 }, async () => {
    const t = tempDir();
    try {
      // A miniature of this repository: the script, a tsconfig, one source file, the real compiler.
      mkdirSync(join(t.dir, 'scripts'));
      copyFileSync(join(ROOT, 'scripts', 'build-if-stale.js'), join(t.dir, 'scripts', 'build-if-stale.js'));
      writeFileSync(join(t.dir, 'package.json'), '{"type": "module"}\n');
      writeFileSync(join(t.dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', target: 'ES2022', rootDir: '.', outDir: 'dist', types: [] }, include: ['src/**/*.ts'] }));
      mkdirSync(join(t.dir, 'src'));
      writeFileSync(join(t.dir, 'src', 'a.ts'), 'export const a: number = 1;\n');
      mkdirSync(join(t.dir, 'node_modules'));
      symlinkSync(join(ROOT, 'node_modules', 'typescript'), join(t.dir, 'node_modules', 'typescript'));

      const first = await start(t.dir);
      expect(first).toMatchObject({ code: 0 });
      expect(first.stderr).toMatch(/^colony: compiling TypeScript into dist\/ \(src\/a\.ts has not been compiled\)…\ncolony: built in [\d.]+ s\n$/);
      expect(existsSync(join(t.dir, 'dist', 'src', 'a.js'))).toBe(true);

      expect(await start(t.dir)).toEqual({ code: 0, stderr: 'colony: dist/ is up to date, not rebuilding\n' });

      const later = new Date(Date.now() + 5000);
      writeFileSync(join(t.dir, 'src', 'a.ts'), 'export const a: number = 2;\n');
      utimesSync(join(t.dir, 'src', 'a.ts'), later, later);
      expect((await start(t.dir)).stderr).toMatch(/^colony: compiling TypeScript into dist\/ \(src\/a\.ts changed\)…\n/);

      writeFileSync(join(t.dir, 'src', 'a.ts'), 'export const a: number = "two";\n');
      const muchLater = new Date(Date.now() + 60_000);
      utimesSync(join(t.dir, 'src', 'a.ts'), muchLater, muchLater);
      const broken = await start(t.dir);
      expect(broken.code).not.toBe(0);
      expect(broken.stderr).toMatch(/colony: the build failed \(errors above\)\n$/);
    } finally {
      t.cleanup();
    }
  });
});
