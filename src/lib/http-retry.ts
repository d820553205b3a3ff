import { setTimeout as sleep } from 'node:timers/promises';

/** What a retry decision needs of an answer: a fetch Response, or one already read. */
export interface Answer {
  status: number;
  headers: Headers;
}

export interface RetryOptions {
  /** Tries after the first. */
  retries: number;
  /** Wait before the first retry; it doubles with each one, up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs?: number;
  /** Statuses worth another try (server trouble, rate limits). */
  retryable: (status: number) => boolean;
  /** Honour a Retry-After header (seconds) in place of the backoff, up to this many ms. */
  retryAfterMaxMs?: number;
}

/**
 * Send a request until it answers with a status not worth retrying, waiting longer each
 * time; network errors are retried too. Returns the last answer, for the caller to read or
 * report, and throws the last error when every attempt failed. `send` builds each attempt
 * afresh (a new signature, a new timeout).
 */
export async function fetchWithRetry<R extends Answer>(send: () => Promise<R>, o: RetryOptions): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    let wait = Math.min(o.maxBackoffMs ?? Infinity, o.backoffMs * 2 ** attempt);
    let answer: R;
    try {
      answer = await send();
    } catch (err) {
      if (attempt >= o.retries) throw err;
      await sleep(wait);
      continue;
    }
    if (attempt >= o.retries || !o.retryable(answer.status)) return answer;
    const after = Number(answer.headers.get('retry-after'));
    if (o.retryAfterMaxMs !== undefined && Number.isFinite(after) && after > 0) wait = Math.min(o.retryAfterMaxMs, after * 1000);
    await sleep(wait);
  }
}
