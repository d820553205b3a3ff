import type { FastifyReply, FastifyRequest } from 'fastify';

/** A server-sent-events stream on a hijacked reply. */
export interface SseStream {
  send(event: { id?: number | string; event?: string; data: string }): void;
  comment(text: string): void;
  close(): void;
  readonly closed: boolean;
  onClose(fn: () => void): void;
}

/** Keep-alive comment interval: proxies drop idle streams after about a minute. */
const KEEPALIVE_MS = 15_000;

export function openSse(_req: FastifyRequest, reply: FastifyReply, extraHeaders: Record<string, string> = {}): SseStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...extraHeaders,
  });
  res.flushHeaders?.();
  let closed = false;
  const closers: (() => void)[] = [];
  const keepalive = setInterval(() => {
    if (!closed) res.write(': keepalive\n\n');
  }, KEEPALIVE_MS);
  keepalive.unref();
  const markClosed = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(keepalive);
    for (const fn of closers) fn();
  };
  // The response's close, not the request's: a request 'close' only means its body was read.
  res.on('close', markClosed);
  return {
    send(e) {
      if (closed) return;
      let out = '';
      if (e.id !== undefined) out += `id: ${e.id}\n`;
      if (e.event) out += `event: ${e.event}\n`;
      for (const line of e.data.split('\n')) out += `data: ${line}\n`;
      res.write(out + '\n');
    },
    comment(text) {
      if (!closed) res.write(`: ${text}\n\n`);
    },
    close() {
      if (!closed) res.end();
      markClosed();
    },
    get closed() {
      return closed;
    },
    onClose(fn) {
      if (closed) fn();
      else closers.push(fn);
    },
  };
}
