import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';

/**
 * A directory only its owner can enter (0700): created so if missing, tightened if it was
 * made by hand (or by an older Colony) with looser bits. `.colony/` holds the token, the
 * signing key and the database: whichever command touches it first must leave it closed.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/**
 * Create `file` empty with mode 0600 if it does not exist, and tighten it (and the given
 * siblings, e.g. SQLite's -wal and -shm, when present) to 0600 if they are looser. SQLite
 * creates its -wal and -shm files with the database file's mode, so a database created
 * this way never has a readable journal either.
 */
export function ensurePrivateFile(file: string, siblings: readonly string[] = []): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, ...siblings]) {
    if (existsSync(f) && (statSync(f).mode & 0o077) !== 0) chmodSync(f, 0o600);
  }
}
