import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkspaceManager } from '../../src/runner/workspace.js';
import { silentLogger } from '../../src/lib/log.js';
import { api, startTestDaemon, waitJob } from '../helpers/daemon.js';
import { git, makeTempRepo, tempDir } from '../helpers/repo.js';

// Real git-crypt (Debian package `git-crypt`; .ci/run installs it when missing).
let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const MAGIC = '\0GITCRYPT\0';
const crypt = (cwd: string, ...args: string[]): string =>
  execFileSync('git-crypt', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
/** The blob as stored in history (no smudge filter): ciphertext for an encrypted file. */
const rawBlob = (cwd: string, spec: string): string =>
  execFileSync('git', ['cat-file', 'blob', spec], { cwd, encoding: 'latin1' });

/** A repository whose secrets are encrypted in history; `init` runs the git-crypt set-up before the first commit. */
function encryptedRepo(attributes: string, files: Record<string, string>, init: (dir: string) => void): string {
  const repo = makeTempRepo({ 'README.md': '# r\n' });
  cleanups.push(repo.cleanup);
  init(repo.dir);
  writeFileSync(join(repo.dir, '.gitattributes'), attributes);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(repo.dir, name), text);
  git(repo.dir, 'add', '-A');
  git(repo.dir, 'commit', '-q', '-m', 'secrets');
  for (const name of Object.keys(files)) expect(rawBlob(repo.dir, `HEAD:${name}`).startsWith(MAGIC)).toBe(true);
  return repo.dir;
}

function manager(base: string): WorkspaceManager {
  const root = tempDir();
  cleanups.push(root.cleanup);
  return new WorkspaceManager({ baseRepo: base, root: root.dir, logger: silentLogger() });
}

describe('git-crypt repositories: every job sees plaintext (real git-crypt)', () => {
  it('unlocks a symmetric-key repository (git-crypt init, no .git-crypt/ directory)', async () => {
    const base = encryptedRepo('secret.txt filter=git-crypt diff=git-crypt\n', { 'secret.txt': 'the password\n' }, (d) => crypt(d, 'init'));
    expect(existsSync(join(base, '.git-crypt'))).toBe(false);
    const ws = await manager(base).prepare({ jobId: 'job_sym' });
    expect(readFileSync(join(ws.dir, 'secret.txt'), 'utf8')).toBe('the password\n');
    expect(git(ws.dir, 'status', '--porcelain')).toBe('');
  });

  it('unlocks the default key and a named key (git-crypt init -k NAME) together', async () => {
    const base = encryptedRepo(
      'secret.txt filter=git-crypt diff=git-crypt\nteam.txt filter=git-crypt-team diff=git-crypt-team\n',
      { 'secret.txt': 'default key text\n', 'team.txt': 'team key text\n' },
      (d) => {
        crypt(d, 'init');
        crypt(d, 'init', '-k', 'team');
      },
    );
    const ws = await manager(base).prepare({ jobId: 'job_named' });
    expect(readFileSync(join(ws.dir, 'secret.txt'), 'utf8')).toBe('default key text\n');
    expect(readFileSync(join(ws.dir, 'team.txt'), 'utf8')).toBe('team key text\n');
  });

  it('unlocks a repository shared with GPG users', async () => {
    const gnupg = tempDir('colony-gnupg-');
    cleanups.push(gnupg.cleanup);
    chmodSync(gnupg.dir, 0o700);
    const env = { ...process.env, GNUPGHOME: gnupg.dir };
    execFileSync('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'Colony Test <colony@example.com>', 'default', 'default', 'never'], { env, stdio: 'ignore' });
    const base = encryptedRepo('secret.txt filter=git-crypt diff=git-crypt\n', { 'secret.txt': 'gpg-shared text\n' }, (d) => {
      crypt(d, 'init');
      execFileSync('git-crypt', ['add-gpg-user', '--trusted', 'colony@example.com'], { cwd: d, env, stdio: 'ignore' });
    });
    // A GPG repository keeps its users' encrypted keys in .git-crypt/.
    expect(existsSync(join(base, '.git-crypt', 'keys', 'default'))).toBe(true);
    const ws = await manager(base).prepare({ jobId: 'job_gpg' });
    expect(readFileSync(join(ws.dir, 'secret.txt'), 'utf8')).toBe('gpg-shared text\n');
  });

  it('refuses clearly when the base itself is locked', async () => {
    const base = encryptedRepo('secret.txt filter=git-crypt diff=git-crypt\n', { 'secret.txt': 'x\n' }, (d) => crypt(d, 'init'));
    crypt(base, 'lock');
    await expect(manager(base).prepare({ jobId: 'job_locked_base' })).rejects.toThrow(/is locked .*git-crypt unlock/);
  });

  it('never fetches back a branch whose files are still encrypted', async () => {
    const base = encryptedRepo('secret.txt filter=git-crypt diff=git-crypt\n', { 'secret.txt': 'x\n' }, (d) => crypt(d, 'init'));
    const wm = manager(base);
    const ws = await wm.prepare({ jobId: 'job_relocked' });
    crypt(ws.dir, 'lock');
    expect(readFileSync(join(ws.dir, 'secret.txt'), 'latin1').startsWith(MAGIC)).toBe(true);
    await expect(wm.finish(ws, 'job_relocked')).rejects.toThrow(/still encrypted .*not fetched back/);
    expect(git(base, 'branch', '--list', 'colony/job_relocked')).toBe('');
  });

  it('bounds preparation: a hung unlock fails the job with prepare_timeout named', async () => {
    const base = encryptedRepo('secret.txt filter=git-crypt diff=git-crypt\n', { 'secret.txt': 'x\n' }, (d) => crypt(d, 'init'));
    const bin = tempDir();
    cleanups.push(bin.cleanup);
    writeFileSync(join(bin.dir, 'git-crypt'), '#!/bin/sh\nexec sleep 600\n', { mode: 0o755 });
    const oldPath = process.env.PATH;
    process.env.PATH = `${bin.dir}:${oldPath}`;
    cleanups.push(() => {
      process.env.PATH = oldPath;
    });
    const root = tempDir();
    cleanups.push(root.cleanup);
    const wm = new WorkspaceManager({ baseRepo: base, root: root.dir, logger: silentLogger() });
    await expect(wm.prepare({ jobId: 'job_hung', prepareTimeoutMs: 1000 })).rejects.toThrow(
      /^preparing the workspace \(clone, include copy, git-crypt unlock\) did not finish within 1 s \(prepare_timeout\)$/,
    );
    expect(existsSync(join(root.dir, 'job_hung'))).toBe(false);
  });

  it('an agent reads and edits an encrypted file; the base reads the result back, encrypted in history', async () => {
    const base = encryptedRepo('secret.txt filter=git-crypt diff=git-crypt\n', { 'secret.txt': 'the password\n' }, (d) => crypt(d, 'init'));
    mkdirSync(join(base, '.colony'), { recursive: true });
    const d = await startTestDaemon(base);
    cleanups.push(() => d.close());
    const id = (await api(d.url, 'POST', '/execute', { prompt: 'rotate [edit:secret.txt]' })).body.job_id;
    const j = await waitJob(d.url, id, 60_000);
    expect(j.error ?? j.status).toBe('completed');
    // The agent appended to the plaintext it read; history holds ciphertext, the unlocked base decrypts it.
    expect(rawBlob(base, `colony/${id}:secret.txt`).startsWith(MAGIC)).toBe(true);
    const text = execFileSync('git', ['cat-file', '--textconv', `colony/${id}:secret.txt`], { cwd: base, encoding: 'utf8' });
    expect(text).toBe(`the password\nedited by ${id}\n`);
  });
});
