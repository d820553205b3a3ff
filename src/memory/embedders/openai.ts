import { z } from 'zod';
import { ColonyError } from '../../lib/errors.js';
import { fetchWithRetry } from '../../lib/http-retry.js';
import { normaliseVector, type Embedder, type EmbedderSettings } from './types.js';

const responseSchema = z.object({
  data: z.array(z.object({ index: z.number().int().min(0), embedding: z.array(z.number()) })),
});

/** Attempts per batch, the first included. */
const ATTEMPTS = 5;
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 8_000;
const REQUEST_TIMEOUT_MS = 60_000;

/** Status codes worth another try: rate limits and server-side trouble. */
const retryable = (status: number): boolean => status === 408 || status === 409 || status === 429 || status >= 500;

/**
 * Any OpenAI-compatible `/embeddings` endpoint (OpenAI, Ollama, vLLM, LM Studio…). Texts go
 * in batches of `batchSize`; a batch that meets a network error, a timeout, a 429 or a 5xx
 * is retried with exponential backoff (honouring Retry-After), other errors fail at once
 * with the server's message.
 */
export class OpenAIEmbedder implements Embedder {
  readonly id: string;
  readonly lexical = false;
  private readonly url: string;

  constructor(
    private readonly model: string,
    private readonly settings: Pick<EmbedderSettings, 'baseUrl' | 'apiKey' | 'batchSize'>,
  ) {
    this.id = `openai:${model}`;
    this.url = `${settings.baseUrl.replace(/\/+$/, '')}/embeddings`;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.settings.batchSize) {
      out.push(...(await this.batch(texts.slice(i, i + this.settings.batchSize))));
    }
    return out;
  }

  private async batch(input: string[]): Promise<Float32Array[]> {
    let res: { status: number; ok: boolean; headers: Headers; body: string };
    try {
      res = await fetchWithRetry(
        async () => {
          const r = await fetch(this.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(this.settings.apiKey ? { authorization: `Bearer ${this.settings.apiKey}` } : {}) },
            body: JSON.stringify({ model: this.model, input }),
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
          // Read inside the attempt, so a connection lost mid-answer is retried too.
          return { status: r.status, ok: r.ok, headers: r.headers, body: await r.text() };
        },
        { retries: ATTEMPTS - 1, backoffMs: FIRST_BACKOFF_MS, maxBackoffMs: MAX_BACKOFF_MS, retryable, retryAfterMaxMs: MAX_BACKOFF_MS * 4 },
      );
    } catch (err) {
      throw new ColonyError('embedder_failed', `embedding with ${this.id} at ${this.url} failed: ${(err as Error).message}`, 503);
    }
    if (res.ok) return this.parse(res.body, input.length);
    throw new ColonyError('embedder_failed', `embedding with ${this.id} at ${this.url} failed: HTTP ${res.status}: ${res.body.slice(0, 300)}`, 503);
  }

  private parse(body: string, n: number): Float32Array[] {
    let parsed: z.infer<typeof responseSchema>;
    try {
      parsed = responseSchema.parse(JSON.parse(body));
    } catch (err) {
      throw new ColonyError('embedder_failed', `${this.url} answered something that is not an embeddings response: ${(err as Error).message.slice(0, 200)}`, 503);
    }
    const vectors: (Float32Array | undefined)[] = new Array(n);
    for (const d of parsed.data) if (d.index < n) vectors[d.index] = normaliseVector(Float32Array.from(d.embedding));
    if (vectors.some((v) => v === undefined)) throw new ColonyError('embedder_failed', `${this.url} returned ${parsed.data.length} embeddings for ${n} texts`, 503);
    return vectors as Float32Array[];
  }
}
