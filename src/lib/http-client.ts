import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

/** An answer read in full: what a retry decision and the caller need. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  /** Absolute path and query on the client's server. */
  target: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** The whole attempt (connect, send, read the answer) fails after this many ms. */
  timeoutMs: number;
}

/** Answers larger than this are refused: a broken or hostile server cannot exhaust memory. */
export const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

/**
 * HTTP requests to one server over kept-alive connections with Nagle's algorithm off.
 * A fresh connection per request (what a fetch without a shared dispatcher costs here)
 * plus Nagle holding the body back until the previous segment is acknowledged made a small
 * request take tens of milliseconds on loopback; a reused, no-delay socket takes one
 * round trip. Idle sockets do not keep the process alive.
 */
export class HttpClient {
  private readonly agent: http.Agent;
  private readonly send: typeof http.request;
  private readonly host: string;
  private readonly port: number;

  constructor(base: URL, maxSockets = 8) {
    const secure = base.protocol === 'https:';
    this.agent = secure ? new https.Agent({ keepAlive: true, maxSockets }) : new http.Agent({ keepAlive: true, maxSockets });
    this.send = secure ? https.request : http.request;
    // Resolved once: a URL parse per request shows in the profile of small requests.
    this.host = base.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = Number(base.port) || (secure ? 443 : 80);
  }

  request(r: HttpRequest): Promise<HttpAnswer> {
    if (!r.target.startsWith('/')) throw new Error(`request target must be an absolute path: ${r.target}`);
    return new Promise<HttpAnswer>((resolve, reject) => {
      const headers: Record<string, string | number> = { ...r.headers };
      if (r.body) headers['content-length'] = r.body.byteLength;
      const req = this.send({ host: this.host, port: this.port, path: r.target, method: r.method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER_BYTES) return req.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
          chunks.push(c);
        });
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: headersOf(res.rawHeaders), body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
        });
      });
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${r.timeoutMs} ms`)), r.timeoutMs);
      function fail(err: Error): void {
        clearTimeout(timer);
        reject(err);
      }
      req.on('socket', (s: Socket) => s.setNoDelay(true));
      req.on('error', fail);
      req.end(r.body);
    });
  }

  /** Close the idle connections now (they would otherwise linger until the server drops them). */
  close(): void {
    this.agent.destroy();
  }
}

function headersOf(raw: string[]): Headers {
  const h = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
  return h;
}
