// The daemon never recalls on its event loop for want of a worker: an installation whose
// memory worker is missing or cannot load refuses to start, saying why, and leaves nothing
// listening. Runs a copy of the built package (the real bin/colony.js and dist/) so the
// worker file can be taken away or broken without touching this clone.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, TEST_TOKEN } from '../helpers/daemon.js';
import { makeTempRepo, tempDir } from '../helpers/repo.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

/** A copy of the built installation: package.json, bin/ and dist/ copied, dependencies linked. */
function installation(): { root: string; worker: string } {
  const t = tempDir('colony-install-');
  cleanups.push(t.cleanup);
  for (const entry of ['package.json', 'bin', 'dist']) cpSync(join(ROOT, entry), join(t.dir, entry), { recursive: true });
  for (const entry of ['node_modules', 'web']) symlinkSync(join(ROOT, entry), join(t.dir, entry));
  return { root: t.dir, worker: join(t.dir, 'dist', 'src', 'memory', 'worker.js') };
}

/** `colony serve` from that installation, run to its exit. */
function serve(root: string): { status: number | null; stdout: string; stderr: string; repo: string } {
  const repo = makeTempRepo();
  cleanups.push(repo.cleanup);
  const r = spawnSync(process.execPath, [join(root, 'bin', 'colony.js'), 'serve', '--repo', repo.dir, '--port', '0', '--json'], {
    env: { ...process.env, COLONY_TOKEN: TEST_TOKEN, COLONY_LOG_LEVEL: 'error' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, repo: repo.dir };
}

describe('the daemon refuses to start without a working memory worker', () => {
  it('a missing worker: exits 1 naming the file and the fix, never serving', () => {
    const { root, worker } = installation();
    rmSync(worker);
    const r = serve(root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`the memory worker ${worker} is missing; build Colony (npm run build)`);
    expect(r.stdout).toBe(''); // no address was ever printed
    expect(existsSync(join(r.repo, '.colony', 'colony.sock'))).toBe(false);
  }, 90_000);

  it('a worker that throws as it loads: exits 1 with the loader error, never serving', () => {
    const { root, worker } = installation();
    writeFileSync(worker, "throw new Error('the embedder module is corrupt');\n");
    const r = serve(root);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`the memory worker ${worker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} could not be loaded: .*the embedder module is corrupt`));
    expect(r.stdout).toBe('');
    expect(existsSync(join(r.repo, '.colony', 'colony.sock'))).toBe(false);
  }, 90_000);
});
