import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ensurePrivateDir } from '../lib/private-fs.js';
import { dirname } from 'node:path';

/** The API token: from config/env if given, else generated once into `.colony/token` (0600). */
export function loadOrCreateToken(tokenFile: string, configured?: string): string {
  if (configured) return configured;
  if (existsSync(tokenFile)) {
    const t = readFileSync(tokenFile, 'utf8').trim();
    if (t) return t;
  }
  ensurePrivateDir(dirname(tokenFile));
  const token = randomBytes(24).toString('base64url');
  // 'wx' so two daemons starting at once cannot both write different tokens.
  try {
    writeFileSync(tokenFile, token + '\n', { mode: 0o600, flag: 'wx' });
    return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(tokenFile, 'utf8').trim();
    throw err;
  }
}
