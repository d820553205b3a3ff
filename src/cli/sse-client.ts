/** One parsed server-sent event. */
export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/**
 * Read an SSE response body event by event. Used by `colony run --follow` and
 * `colony jobs logs --follow`; stops when the server ends the stream.
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buf = '';
  let cur: SseMessage = { data: '' };
  let hasData = false;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      let line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (hasData) yield cur;
        cur = { data: '' };
        hasData = false;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') {
        cur.data = hasData ? `${cur.data}\n${value}` : value;
        hasData = true;
      } else if (field === 'id') cur.id = value;
      else if (field === 'event') cur.event = value;
    }
  }
}
