// The daemon-wide event stream (GET /events): job transitions, reservations and memory
// counts, slots and the merge queue as they change. Views read the store and listen for job transitions.
import { follow } from './api.js';
import { createStore } from './store.js';

/** `state`: connecting · live · reconnecting · refused; `features`: optional routes. */
export const feed = createStore({ state: 'connecting', features: null, reservations: null, memory: null, runner: null, land: null, swarms: new Map() });
const jobListeners = new Set();
const resyncListeners = new Set();

/**
 * Called with `{job_id, status, error?, at}` on every job status transition, and with
 * `{resync: true}` after a reconnect (transitions may have been missed meanwhile).
 */
export function onJobTransition(fn) {
  jobListeners.add(fn);
  return () => jobListeners.delete(fn);
}

/**
 * Called after a reconnect: whatever changed while the feed was away was not sent, so views
 * that hold state read from the daemon read it again.
 */
export function onResync(fn) {
  resyncListeners.add(fn);
  return () => resyncListeners.delete(fn);
}

export function startFeed() {
  feed.set((f) => ({ ...f, state: 'connecting' }));
  let connected = false;
  return follow('/events', {
    onState: (state) => feed.set((f) => ({ ...f, state })),
    onEvent: ({ event, data }) => {
      if (event === 'hello') {
        // After a reconnect the swarms heard before may be stale (one that ended meanwhile is
        // not sent again): drop them; the unfinished ones follow this hello.
        feed.set((f) => ({ ...f, features: data.features, version: data.version, swarms: connected ? new Map() : f.swarms }));
        if (connected) {
          for (const fn of jobListeners) fn({ resync: true });
          for (const fn of resyncListeners) fn();
        }
        connected = true;
      }
      else if (event === 'reservations') feed.set((f) => ({ ...f, reservations: data.reservations }));
      else if (event === 'memory') feed.set((f) => ({ ...f, memory: data }));
      else if (event === 'runner') feed.set((f) => ({ ...f, runner: data }));
      else if (event === 'land') feed.set((f) => ({ ...f, land: data }));
      else if (event === 'swarm') feed.set((f) => ({ ...f, swarms: new Map(f.swarms).set(data.swarm_id, data) }));
      else if (event === 'job') for (const fn of jobListeners) fn(data);
    },
  });
}
