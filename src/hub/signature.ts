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
  sig: string;
}

export function parseAuthorization(header: string | undefined): ParsedSig | undefined {
  if (!header) return undefined;
  const m = /^Colony-Sig\s+key="([0-9a-f]{1,64})"\s+ts=(\d{1,12})\s+sig="([A-Za-z0-9_-]{1,200})"\s*$/.exec(header);
  return m ? { keyId: m[1]!, ts: Number(m[2]), sig: m[3]! } : undefined;
}

export function verifySignature(publicKey: KeyObject, p: ParsedSig, method: string, pathWithQuery: string, body: Uint8Array | string): boolean {
  return verify(null, Buffer.from(signingString(method, pathWithQuery, p.ts, body)), publicKey, Buffer.from(p.sig, 'base64url'));
}
