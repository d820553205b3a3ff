import { encode, decode } from '@msgpack/msgpack';
import { ColonyError } from '../../lib/errors.js';
import type { Identity } from '../../hub/identity.js';
import { authorizationHeader } from '../../hub/signature.js';
import type { RecordKind, WireRecord } from '../wire.js';

export interface HubClientOptions {
  hubUrl: string;
  repoId: string;
  /** Signs every request; without one the hub must run with --allow-unsigned. */
  identity?: Identity;
  format?: 'json' | 'msgpack';
  retries?: number;
  /** First backoff in ms; doubles per attempt. */
  backoffMs?: number;
}

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\/[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** A signed, retrying client of one repository's log on a hub. */
export class HubClient {
  private readonly base: URL;
  private readonly prefix: string;

  constructor(private readonly o: HubClientOptions) {
    if (!REPO_ID.test(o.repoId)) throw new ColonyError('bad_repo_id', `repo id '${o.repoId}' must look like owner/slug`);
    try {
      this.base = new URL(o.hubUrl);
    } catch {
      throw new ColonyError('bad_hub_url', `hub URL '${o.hubUrl}' is not a URL`);
    }
    this.prefix = `${this.base.pathname.replace(/\/+$/, '')}/v1/repos/${o.repoId}/records`;
  }

  private async request(method: 'GET' | 'POST', pathWithQuery: string, body?: Uint8Array, contentType?: string): Promise<unknown> {
    const msgpack = (this.o.format ?? 'json') === 'msgpack';
    const retries = this.o.retries ?? 5;
    let wait = this.o.backoffMs ?? 200;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: msgpack ? 'application/msgpack' : 'application/json' };
      if (contentType) headers['content-type'] = contentType;
      // A fresh signature per attempt: the hub refuses a signature it has already seen.
      if (this.o.identity) {
        headers.authorization = authorizationHeader(this.o.identity.keyId, this.o.identity.privateKey, method, pathWithQuery, body ?? new Uint8Array());
      }
      let res: Response;
      try {
        res = await fetch(new URL(pathWithQuery, this.base), { method, headers, body });
      } catch (err) {
        if (attempt >= retries) {
          throw new ColonyError('hub_unreachable', `hub ${this.base.origin} unreachable: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, wait));
        wait *= 2;
        continue;
      }
      const buf = new Uint8Array(await res.arrayBuffer());
      if (res.status >= 500 && attempt < retries) {
        await new Promise((r) => setTimeout(r, wait));
        wait *= 2;
        continue;
      }
      const isMsgpack = (res.headers.get('content-type') ?? '').startsWith('application/msgpack');
      let parsed: any;
      try {
        parsed = isMsgpack ? decode(buf) : JSON.parse(Buffer.from(buf).toString('utf8'));
      } catch {
        throw new ColonyError('hub_error', `hub answered ${res.status} with an unreadable body`);
      }
      if (!res.ok) throw new ColonyError(parsed?.error?.code ?? 'hub_error', `hub: ${parsed?.error?.message ?? `HTTP ${res.status}`}`, res.status);
      return parsed;
    }
  }

  push(records: readonly WireRecord[]): Promise<{ inserted: number; skipped: number; cursor: string }> {
    const msgpack = (this.o.format ?? 'json') === 'msgpack';
    const body = msgpack ? encode({ records }) : Buffer.from(JSON.stringify({ records }));
    return this.request('POST', this.prefix, body, msgpack ? 'application/msgpack' : 'application/json') as Promise<{ inserted: number; skipped: number; cursor: string }>;
  }

  pull(since: string, opts: { kinds?: readonly RecordKind[]; limit?: number } = {}): Promise<{ records: WireRecord[]; cursor: string; more: boolean }> {
    const q = new URLSearchParams({ since });
    if (opts.kinds) q.set('kinds', opts.kinds.join(','));
    if (opts.limit) q.set('limit', String(opts.limit));
    return this.request('GET', `${this.prefix}?${q}`) as Promise<{ records: WireRecord[]; cursor: string; more: boolean }>;
  }
}
