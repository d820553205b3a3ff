import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';

export interface EmbeddingsRequest {
  model: string;
  input: string[];
  authorization: string | undefined;
}

/**
 * A local OpenAI-compatible `/v1/embeddings` server: deterministic 8-dimensional vectors
 * from a hash of each text. `failures` queues status codes to answer before succeeding;
 * `delayMs` holds every answer back (a slow endpoint).
 */
export class EmbeddingsServer {
  readonly requests: EmbeddingsRequest[] = [];
  failures: { status: number; retryAfter?: number }[] = [];
  delayMs = 0;
  /** How a text becomes a vector (a test may give texts of one meaning one direction). */
  vectorOf: (text: string) => number[] = EmbeddingsServer.vector;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<EmbeddingsServer> {
    const server = createServer();
    const s = new EmbeddingsServer(server);
    server.on('request', (req, res) => void s.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return s;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  static vector(text: string): number[] {
    const h = createHash('sha256').update(text).digest();
    return Array.from({ length: 8 }, (_, i) => h[i]! - 128);
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.url !== '/v1/embeddings' || req.method !== 'POST') {
      res.writeHead(404).end('{"error":{"message":"not found"}}');
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { model: string; input: string[] };
    this.requests.push({ model: body.model, input: body.input, authorization: req.headers.authorization });
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const failure = this.failures.shift();
    if (failure) {
      res.writeHead(failure.status, { 'content-type': 'application/json', ...(failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : {}) });
      res.end(JSON.stringify({ error: { message: `failure ${failure.status}` } }));
      return;
    }
    // Reversed on purpose: clients must order by `index`, not by position.
    const data = body.input.map((text, index) => ({ object: 'embedding', index, embedding: this.vectorOf(text) })).reverse();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data, model: body.model }));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
