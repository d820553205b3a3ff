// Messages for the person at the screen: refused actions, failed calls, confirmations.
import { createStore } from './store.js';

export const notices = createStore([]);
let next = 1;

export function notify(text, kind = 'error') {
  const id = next++;
  notices.set((list) => [...list.slice(-4), { id, text, kind }]);
  if (kind !== 'error') setTimeout(() => dismiss(id), 5000);
}

export function dismiss(id) {
  notices.set((list) => list.filter((n) => n.id !== id));
}

/**
 * Run an action; if it throws, say what went wrong instead of failing silently. A refused
 * token (401) is said once, by the sign-in screen it leads back to, not by every call.
 */
export async function attempt(what, fn) {
  try {
    return await fn();
  } catch (err) {
    if (err.status !== 401) notify(`${what}: ${err.message}`);
    return undefined;
  }
}
