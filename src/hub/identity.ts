import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ensurePrivateDir } from '../lib/private-fs.js';
import { dirname } from 'node:path';
import { ColonyError } from '../lib/errors.js';
import { sha256Hex } from '../lib/ids.js';

/** A colony's ed25519 signing identity. */
export interface Identity {
  keyId: string;
  /** `ed25519:` + the raw 32-byte public key in base64url: what `colony hub keys add` takes. */
  publicKey: string;
  privateKey: KeyObject;
}

/** SPKI DER of an ed25519 key is a fixed 12-byte header followed by the raw 32 bytes. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function rawPublicKey(key: KeyObject): Buffer {
  return (key.export({ format: 'der', type: 'spki' }) as Buffer).subarray(SPKI_PREFIX.length);
}

/**
 * The printed form carries a prefix: base64url may begin with '-', which a command line
 * would read as an option.
 */
const PREFIX = 'ed25519:';
const rawPart = (publicKey: string): string => (publicKey.startsWith(PREFIX) ? publicKey.slice(PREFIX.length) : publicKey);

export function parsePublicKey(publicKey: string): KeyObject {
  const raw = Buffer.from(rawPart(publicKey), 'base64url');
  if (raw.length !== 32) throw new ColonyError('bad_key', 'public key must be 32 bytes of ed25519, base64url-encoded');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** key_id: the first 16 hex digits of the public key's SHA-256. */
export function keyIdOf(publicKey: string): string {
  return sha256Hex(Buffer.from(rawPart(publicKey), 'base64url')).slice(0, 16);
}

function fromPrivate(privateKey: KeyObject): Identity {
  const publicKey = PREFIX + rawPublicKey(createPublicKey(privateKey)).toString('base64url');
  return { keyId: keyIdOf(publicKey), publicKey, privateKey };
}

export function loadIdentity(file: string): Identity {
  if (!existsSync(file)) throw new ColonyError('no_identity', `no identity at ${file}; create one with \`colony identity init\``);
  return fromPrivate(createPrivateKey(readFileSync(file, 'utf8')));
}

/** Create the key pair once (mode 0600); an existing one is kept and returned. */
export function initIdentity(file: string): { identity: Identity; created: boolean } {
  if (existsSync(file)) return { identity: loadIdentity(file), created: false };
  // The key's directory (.colony/) is private too: a readable directory lists what it holds.
  ensurePrivateDir(dirname(file));
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  return { identity: fromPrivate(privateKey), created: true };
}
