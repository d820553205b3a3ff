import { randomBytes } from 'node:crypto';
import { encode, decode } from '@msgpack/msgpack';
import { ColonyError } from '../../lib/errors.js';
import { fetchWithRetry } from '../../lib/http-retry.js';
import { HttpClient, type HttpAnswer } from '../../lib/http-client.js';
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
  /** Per attempt: a stalled hub (or its stalled database) fails the attempt, which is retried. */
  timeoutMs?: number;
}

/** The hub's answer to one push; `refused` lists records naming what another colony owns. */
export interface PushAnswer {
  inserted: number;
  skipped: number;
  refused?: { record_id: string; reason: string }[];
  cursor: string;
}

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\/[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** A signed, retrying client of one repository's log on a hub. */
export class HubClient {
  private readonly base: URL;
  private readonly prefix: string;
  private readonly http: HttpClient;
  private readonly noncePrefix = randomBytes(8).toString('hex');
  private sent = 0;

  /** Which hub and repository log this client writes to (push state is kept per pair). */
  get hubUrl(): string {
    return this.o.hubUrl;
  }
  get repoId(): string {
    return this.o.repoId;
  }

  constructor(private readonly o: HubClientOptions) {
    if (!REPO_ID.test(o.repoId)) throw new ColonyError('bad_repo_id', `repo id '${o.repoId}' must look like owner/slug`);
    try {
      this.base = new URL(o.hubUrl);
    } catch {
      throw new ColonyError('bad_hub_url', `hub URL '${o.hubUrl}' is not a URL`);
    }
    this.http = new HttpClient(this.base);
    this.prefix = `${this.base.pathname.replace(/\/+$/, '')}/v1/repos/${o.repoId}/records`;
  }

  private async request(method: 'GET' | 'POST', pathWithQuery: string, body?: Uint8Array, contentType?: string): Promise<unknown> {
    const msgpack = (this.o.format ?? 'json') === 'msgpack';
    let res: HttpAnswer;
    try {
      res = await fetchWithRetry(() => this.send(method, pathWithQuery, msgpack, body, contentType), {
        retries: this.o.retries ?? 5,
        backoffMs: this.o.backoffMs ?? 200,
        retryable: (status) => status >= 500,
        retryAfterMaxMs: 5000,
        maxBackoffMs: 5000,
      });
    } catch (err) {
      throw new ColonyError('hub_unreachable', `hub ${this.base.origin} unreachable: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
    }
    const isMsgpack = (res.headers.get('content-type') ?? '').startsWith('application/msgpack');
    let parsed: any;
    try {
      parsed = isMsgpack ? decode(res.body) : JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new ColonyError('hub_error', `hub answered ${res.status} with an unreadable body`);
    }
    if (res.status < 200 || res.status > 299) throw new ColonyError(parsed?.error?.code ?? 'hub_error', `hub: ${parsed?.error?.message ?? `HTTP ${res.status}`}`, res.status);
    return parsed;
  }

  /** One attempt: a fresh nonce and signature each time. */
  private send(method: 'GET' | 'POST', pathWithQuery: string, msgpack: boolean, body?: Uint8Array, contentType?: string): Promise<HttpAnswer> {
    const headers: Record<string, string> = { accept: msgpack ? 'application/msgpack' : 'application/json' };
    // ed25519 signatures are deterministic: a nonce keeps two identical requests in the same
    // second from looking like a replay to the hub. Random per client, counted per request.
    const target = `${pathWithQuery}${pathWithQuery.includes('?') ? '&' : '?'}nonce=${this.noncePrefix}${(this.sent++).toString(36)}`;
    if (contentType) headers['content-type'] = contentType;
    // A fresh signature per attempt: the hub refuses a signature it has already seen.
    if (this.o.identity) {
      headers.authorization = authorizationHeader(this.o.identity.keyId, this.o.identity.privateKey, method, target, body ?? new Uint8Array());
    }
    return this.http.request({ method, target, headers, body, timeoutMs: this.o.timeoutMs ?? 60_000 });
  }

  /** Close the kept-alive connections to the hub (idle ones never hold the process open). */
  close(): void {
    this.http.close();
  }

  push(records: readonly WireRecord[]): Promise<PushAnswer> {
    const msgpack = (this.o.format ?? 'json') === 'msgpack';
    const body = msgpack ? encode({ records }) : Buffer.from(JSON.stringify({ records }));
    return this.request('POST', this.prefix, body, msgpack ? 'application/msgpack' : 'application/json') as Promise<PushAnswer>;
  }

  /**
   * Push stored rows whose payload is still JSON text. For JSON the body is spliced from
   * that text, saving a parse and a re-encode per record on the hot path of `coord push`.
   */
  pushRows(
    rows: readonly { record_id: string; kind: RecordKind; run_id: string; payload: string; created_at: number; expires_at: number | null }[],
    origin: string,
  ): Promise<PushAnswer> {
    if ((this.o.format ?? 'json') === 'msgpack') {
      return this.push(
        rows.map((r) => ({ kind: r.kind, record_id: r.record_id, run_id: r.run_id, payload: JSON.parse(r.payload) as Record<string, unknown>, created_at: r.created_at, expires_at: r.expires_at, origin })),
      );
    }
    const o = JSON.stringify(origin);
    const parts = rows.map(
      (r) =>
        `{"kind":${JSON.stringify(r.kind)},"record_id":${JSON.stringify(r.record_id)},"run_id":${JSON.stringify(r.run_id)},"payload":${r.payload},"created_at":${r.created_at},"expires_at":${r.expires_at === null ? 'null' : r.expires_at},"origin":${o}}`,
    );
    const body = Buffer.from(`{"records":[${parts.join(',')}]}`);
    return this.request('POST', this.prefix, body, 'application/json') as Promise<PushAnswer>;
  }

  pull(since: string, opts: { kinds?: readonly RecordKind[]; limit?: number } = {}): Promise<{ records: WireRecord[]; cursor: string; more: boolean }> {
    const q = new URLSearchParams({ since });
    if (opts.kinds) q.set('kinds', opts.kinds.join(','));
    if (opts.limit) q.set('limit', String(opts.limit));
    return this.request('GET', `${this.prefix}?${q}`) as Promise<{ records: WireRecord[]; cursor: string; more: boolean }>;
  }
}
