// `colony demo` from the built package, as a new user runs it: offline, no agent CLI installed.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { colony, alive } from '../helpers/cli.js';
import { COLONY_BIN } from '../helpers/daemon.js';
import { git, tempDir } from '../helpers/repo.js';
import { useCleanups } from '../swarm/helpers.js';

const cleanups = useCleanups();

describe('colony demo', { timeout: 120_000 }, () => {
  it('runs a swarm to completion, reports every task landed and the conflict resolved, and stops its daemon', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const dir = join(tmp.dir, 'demo');
    // No agent CLI on PATH: only node and git.
    const r = await colony(['demo', '--json', '--dir', dir], tmp.dir, { env: { PATH: `${join(process.execPath, '..')}:/usr/bin:/bin` } });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ status: 'completed', total: 7, landed: 7, conflicts: 1, conflicts_resolved: 1, repo: dir, error: null });
    expect(out.memories).toBeGreaterThanOrEqual(7);
    expect(out.tasks.every((t: any) => t.state === 'landed')).toBe(true);
    expect(out.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Progress went to stderr, the dashboard's address and token first.
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe(`Dashboard: ${out.url}/`);
    expect(lines[1]).toBe(`Token:     ${out.token}`);
    expect(r.stderr).toMatch(/✓ \[7\/7\] \S+ landed/);
    expect(r.stderr).toMatch(/⚡ (slugify|title-case) conflicted in src\/index\.js/);
    // --dir keeps the repository with everything landed on main; the daemon is gone.
    expect(git(dir, 'log', '--format=%s', 'main').split('\n')).toHaveLength(8);
    expect(out.commits).toHaveLength(8);
    const infoFile = join(dir, '.colony', 'daemon.json');
    if (existsSync(infoFile)) expect(alive(JSON.parse(readFileSync(infoFile, 'utf8')).pid)).toBe(false);
    expect(existsSync(join(dir, 'src', 'headline.js'))).toBe(true);
  });

  it('refuses a --dir it cannot create, or a file, with the reason in one line and exit 1', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    writeFileSync(join(tmp.dir, 'afile'), '');
    const cases: [string, RegExp][] = [
      // /proc refuses new entries: Node's recursive mkdir used to retry that forever.
      ['/proc/colony-demo-test', /^colony: cannot create --dir \/proc\/colony-demo-test: no such file or directory/],
      [join(tmp.dir, 'afile', 'sub'), /^colony: cannot create --dir .*afile\/sub: a part of the path is not a directory/],
      [join(tmp.dir, 'afile'), /^colony: --dir .*afile is a file; give a new or empty directory\n$/],
    ];
    for (const [dir, message] of cases) {
      const r = await colony(['demo', '--dir', dir], tmp.dir, { timeoutMs: 20_000 });
      expect(r.code, dir).toBe(1);
      expect(r.stderr, dir).toMatch(message);
    }
  });

  // Ctrl-C, and a kill or a closing terminal alike: the swarm is cancelled, the daemon stopped.
  it.each([
    ['SIGINT', 130, 'Ctrl-C'],
    ['SIGTERM', 143, 'SIGTERM'],
  ] as const)('%s cancels the swarm, prints the summary, stops the daemon, removes the repository and exits %i', async (signal, status, said) => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const child = spawn(process.execPath, [COLONY_BIN, 'demo', '--json'], { cwd: tmp.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        if (/running \(agent/.test(stderr)) resolve();
      });
      void exited.then(() => reject(new Error(`demo exited before any task ran: ${stderr}`)));
    });
    child.kill(signal);
    expect(await exited, stderr).toBe(status);
    const out = JSON.parse(stdout);
    expect(out.status).toBe('cancelled');
    expect(out.landed).toBeLessThan(out.total);
    expect(out.tasks.some((t: any) => t.state === 'cancelled')).toBe(true);
    expect(stderr).toContain(`${said}: cancelling the swarm`);
    expect(existsSync(out.repo)).toBe(false);
    // No `colony serve` for the demo's repository is left running.
    const servers = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(out.repo);
        } catch {
          return false;
        }
      });
    expect(servers).toEqual([]);
  });
});
