import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ColonyError } from '../lib/errors.js';
import { git } from './git.js';

/** What every git-crypt-encrypted blob starts with: a file that reads like this is still locked. */
const MAGIC = Buffer.from('\0GITCRYPT\0');

export interface GitCryptState {
  /** The repository encrypts files with git-crypt (attributes, a `.git-crypt/` directory, or keys). */
  uses: boolean;
  /** Names of the keys the base holds, unlocked (`default`, and one per `git-crypt init -k NAME`). */
  keys: string[];
}

/**
 * How the base uses git-crypt at `commit`. A repository set up with `git-crypt init`
 * (symmetric key) has no `.git-crypt/` directory: the keys under `.git/git-crypt/keys/` and
 * the `filter=git-crypt` attributes are what say so.
 */
export async function gitCryptState(base: string, commit: string): Promise<GitCryptState> {
  const gitDir = (await git(['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: base })).stdout.trim();
  const keysDir = join(gitDir, 'git-crypt', 'keys');
  const keys = existsSync(keysDir) ? readdirSync(keysDir).sort() : [];
  if (keys.length > 0 || existsSync(join(base, '.git-crypt'))) return { uses: true, keys };
  const attrs = await git(['grep', '-q', '-E', 'filter=git-crypt', commit, '--', '.gitattributes', ':(glob)**/.gitattributes'], {
    cwd: base,
    okCodes: [1],
  });
  return { uses: attrs.code === 0, keys };
}

/** Run git-crypt; a missing binary and a failure are errors that say what to do. */
function gitCrypt(args: string[], cwd: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git-crypt', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], signal });
    let output = '';
    const keep = (d: Buffer): void => {
      output = (output + d.toString()).slice(-2000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(
          new ColonyError(
            'git_crypt_missing',
            'the repository uses git-crypt but git-crypt is not found on PATH; install git-crypt to run jobs here',
          ),
        );
      } else if (err.name === 'AbortError') reject(new ColonyError('cancelled', 'cancelled'));
      else reject(err);
    });
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new ColonyError('git_crypt_failed', `git-crypt ${args[0]} failed (exit ${code}): ${output.trim()}`));
    });
  });
}

/**
 * Unlock a fresh clone with every key the base has: each key is exported from the base into
 * a private temporary directory (0700, files 0600) and removed as soon as the clone is unlocked.
 */
export async function unlockClone(base: string, dir: string, state: GitCryptState, signal?: AbortSignal): Promise<void> {
  if (state.keys.length === 0) {
    // Probe first, so a missing binary is reported as such rather than as a locked base.
    await gitCrypt(['--version'], dir, signal);
    throw new ColonyError(
      'git_crypt_locked',
      `the repository encrypts files with git-crypt but ${base} is locked (no keys under .git/git-crypt/keys): run 'git-crypt unlock' there first`,
    );
  }
  const keyDir = mkdtempSync(join(tmpdir(), 'colony-keys-'));
  chmodSync(keyDir, 0o700);
  try {
    const files: string[] = [];
    for (const name of state.keys) {
      const file = join(keyDir, name);
      await gitCrypt(['export-key', ...(name === 'default' ? [] : ['-k', name]), file], base, signal);
      chmodSync(file, 0o600);
      files.push(file);
    }
    await gitCrypt(['unlock', ...files], dir, signal);
  } finally {
    rmSync(keyDir, { recursive: true, force: true });
  }
}

/** Tracked paths whose attributes route them through a git-crypt filter (any key). */
async function encryptedPaths(dir: string): Promise<string[]> {
  const files = (await git(['ls-files', '-z'], { cwd: dir })).stdout;
  if (!files) return [];
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('git', ['check-attr', '--stdin', '-z', 'filter'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new ColonyError('git_failed', 'git check-attr failed'))));
    child.stdin.end(files);
  });
  // -z output: path NUL attribute NUL value NUL, repeated.
  const parts = out.split('\0');
  const paths: string[] = [];
  for (let i = 0; i + 2 < parts.length; i += 3) {
    if (parts[i + 2]!.startsWith('git-crypt')) paths.push(parts[i]!);
  }
  return paths;
}

/**
 * Refuse to hand back a workspace whose encrypted files are not readable: committed from a
 * locked checkout they would either keep ciphertext the agent never saw, or store plaintext
 * unencrypted. Checks the clone is unlocked and no such file in its tree reads as ciphertext.
 */
export async function assertUnlocked(dir: string): Promise<void> {
  const filters = await git(['config', '--get-regexp', '^filter\\.git-crypt.*\\.smudge$'], { cwd: dir, okCodes: [1] });
  const paths = await encryptedPaths(dir);
  const ciphertext = await Promise.all(paths.map((p) => startsWithMagic(join(dir, p))));
  if (filters.code !== 0 || ciphertext.some(Boolean)) {
    throw new ColonyError(
      'git_crypt_locked',
      'the workspace’s git-crypt files are still encrypted (the checkout is locked); its branch was not fetched back',
    );
  }
}

async function startsWithMagic(file: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return false; // deleted by the agent
  }
  try {
    const buf = Buffer.alloc(MAGIC.length);
    const { bytesRead } = await fh.read(buf, 0, MAGIC.length, 0);
    return bytesRead === MAGIC.length && buf.equals(MAGIC);
  } finally {
    await fh.close();
  }
}
