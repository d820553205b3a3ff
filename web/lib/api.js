// Talking to the daemon: JSON calls and SSE streams, both with the Bearer token. The token
// stays in this browser's localStorage and goes only to this daemon.
import { createStore } from './store.js';

const TOKEN_KEY = 'colony-token';

/** `{token, refused}`: refused holds the daemon's message once it answered 401. */
export const session = createStore({ token: localStorage.getItem(TOKEN_KEY) || '', refused: null });

export function signIn(token) {
  localStorage.setItem(TOKEN_KEY, token);
  session.set({ token, refused: null });
}

export function signOut(refused = null) {
  localStorage.removeItem(TOKEN_KEY);
  session.set({ token: '', refused });
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function failure(res) {
  let body;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const err = new ApiError(res.status, body?.error?.code ?? `http_${res.status}`, body?.error?.message ?? `HTTP ${res.status}`);
  if (res.status === 401) signOut(`Wrong token: the daemon refused it (${err.message}).`);
  return err;
}

/** A JSON call. Only a call with a body says `content-type: application/json`. */
export async function api(path, { method = 'GET', body, token = session.get().token } = {}) {
  const init = { method, headers: { authorization: `Bearer ${token}` } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'unreachable', 'The daemon is unreachable.');
  }
  if (!res.ok) throw await failure(res);
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Follow an SSE route. `onEvent({id, event, data})` gets each event with its data parsed.
 * When the server ends the stream, `onEnd()` decides: return true to reconnect (resuming
 * after the last event id). Network errors reconnect with backoff; a 4xx answer stops.
 * Returns the function that stops following.
 */
export function follow(path, { onEvent, onEnd = () => true, onState = () => {} }) {
  const ctrl = new AbortController();
  let lastId;
  (async () => {
    let delay = 500;
    while (!ctrl.signal.aborted) {
      try {
        const headers = { authorization: `Bearer ${session.get().token}`, accept: 'text/event-stream' };
        if (lastId !== undefined) headers['last-event-id'] = lastId;
        const res = await fetch(path, { headers, signal: ctrl.signal });
        if (!res.ok) throw await failure(res);
        onState('live');
        delay = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value.replace(/\r\n?/g, '\n');
          let end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            const e = { event: 'message', data: [] };
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue;
              const colon = line.indexOf(':');
              const field = colon < 0 ? line : line.slice(0, colon);
              const v = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'data') e.data.push(v);
              else if (field === 'event') e.event = v;
              else if (field === 'id') e.id = lastId = v;
            }
            if (e.data.length) onEvent({ ...e, data: JSON.parse(e.data.join('\n')) });
          }
        }
        if (!onEnd()) {
          onState('ended');
          return;
        }
      } catch (err) {
        if (ctrl.signal.aborted) return;
        if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
          onState('refused', err);
          return;
        }
        onState('reconnecting', err);
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 10_000);
    }
  })();
  return () => ctrl.abort();
}
