import { sign, verify, type KeyObject } from 'node:crypto';
import { sha256Hex } from '../lib/ids.js';

/** Seconds a signature's timestamp may differ from the hub's clock. */
export const MAX_SKEW_S = 300;

/** What is signed: `METHOD\nPATH_WITH_QUERY\nTS\nSHA256_HEX(body)`. */
export function signingString(method: string, pathWithQuery: string, ts: number, body: Uint8Array | string): string {
  return `${method.toUpperCase()}\n${pathWithQuery}\n${ts}\n${sha256Hex(body)}`;
}

export function authorizationHeader(keyId: string, privateKey: KeyObject, method: string, pathWithQuery: string, body: Uint8Array | string, ts = Math.floor(Date.now() / 1000)): string {
  const sig = sign(null, Buffer.from(signingString(method, pathWithQuery, ts, body)), privateKey).toString('base64url');
  return `Colony-Sig key="${keyId}" ts=${ts} sig="${sig}"`;
}

export interface ParsedSig {
  keyId: string;
  ts: number;
  /** The 64 signature bytes, decoded from their one canonical base64url spelling. */
  bytes: Buffer;
}

/** An ed25519 signature is 64 bytes: 86 base64url characters, unpadded. */
const SIG_BYTES = 64;

export function parseAuthorization(header: string | undefined): ParsedSig | undefined {
  if (!header) return undefined;
  const m = /^Colony-Sig\s+key="([0-9a-f]{1,64})"\s+ts=(\d{1,12})\s+sig="([A-Za-z0-9_-]{1,200})"\s*$/.exec(header);
  if (!m) return undefined;
  // Decoding is lenient about the last character's spare bits: 'A' and 'B' can end the same
  // bytes. Only the canonical spelling is accepted, so one signature has one text form.
  const bytes = Buffer.from(m[3]!, 'base64url');
  if (bytes.length !== SIG_BYTES || bytes.toString('base64url') !== m[3]) return undefined;
  return { keyId: m[1]!, ts: Number(m[2]), bytes };
}

export function verifySignature(publicKey: KeyObject, p: ParsedSig, method: string, pathWithQuery: string, body: Uint8Array | string): boolean {
  return verify(null, Buffer.from(signingString(method, pathWithQuery, p.ts, body)), publicKey, p.bytes);
}
