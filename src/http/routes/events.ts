import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.js';
import { openSse, type SseStream } from '../sse.js';

/** How often the watched state is compared while someone listens (reservations expire, embedding progresses). */
const WATCH_MS = 1000;
/** A job transition or a merge-queue event compares sooner: what the person just did shows at once. */
const NUDGE_MS = 25;

interface Snapshot {
  event: string;
  read: () => unknown;
  last?: string;
}

/**
 * `GET /events`: one daemon-wide SSE stream for the dashboard. `hello` first (version and
 * which optional routes this daemon has), then `job` for every job status transition, and
 * `reservations` / `memory` / `runner` (slots and queue) / `land` (the merge queue as
 * `GET /merge-queue` shows it) with the whole current state whenever it changes. Coordination
 * and memory keep no change feed, so one shared timer compares them while at least one client
 * listens; job transitions and merge-queue events compare at once. `swarm` carries a swarm's
 * whole view on every change (the unfinished ones right after `hello`).
 */
export function eventRoutes(app: FastifyInstance, deps: AppDeps): void {
  const listeners = new Set<SseStream>();
  const snapshots: Snapshot[] = [
    { event: 'reservations', read: () => deps.coord.status({}) },
    { event: 'memory', read: () => deps.memory.stats() },
    // A slot frees after the job's final transition (its workspace is cleaned up first).
    { event: 'runner', read: () => deps.runner.stats() },
    { event: 'land', read: () => deps.land.status() },
  ];
  let timer: NodeJS.Timeout | undefined;
  let nudged: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void)[] = [];

  const broadcast = (event: string, data: string): void => {
    for (const sse of listeners) sse.send({ event, data });
  };
  const compare = (): void => {
    for (const s of snapshots) {
      let now: string;
      try {
        now = JSON.stringify(s.read());
      } catch (err) {
        app.log.warn({ err, event: s.event }, 'dashboard feed could not read state');
        continue;
      }
      if (now !== s.last) {
        s.last = now;
        broadcast(s.event, now);
      }
    }
  };
  // One compare for a burst of events (a batch landing moves many entries at once).
  const nudge = (): void => {
    nudged ??= setTimeout(() => {
      nudged = undefined;
      compare();
    }, NUDGE_MS);
  };
  const start = (): void => {
    unsubscribe = [
      deps.runner.subscribeAll((e) => {
        if (e.type !== 'status') return;
        broadcast('job', JSON.stringify({ job_id: e.job_id, at: e.at, ...e.data }));
        nudge();
      }),
      deps.land.subscribe(nudge),
      deps.swarms.subscribe((v) => broadcast('swarm', JSON.stringify(v))),
    ];
    timer = setInterval(compare, WATCH_MS);
    timer.unref();
  };
  const stop = (): void => {
    clearInterval(timer);
    clearTimeout(nudged);
    nudged = undefined;
    for (const off of unsubscribe) off();
    unsubscribe = [];
    for (const s of snapshots) s.last = undefined;
  };

  // What the dashboard may offer, so it never has to probe with a failing request.
  const features = (): Record<string, boolean> => {
    const has = (url: string): boolean => app.hasRoute({ method: 'GET', url });
    const recall = deps.tools.get('memory_recall');
    return {
      merge_queue: has('/merge-queue'),
      swarms: has('/swarms/:id'),
      memory_explain: !!recall?.input.safeParse({ cue: 'x', budget_tokens: 1, explain: true }).success,
    };
  };

  app.get('/events', async (req, reply) => {
    const sse = openSse(req, reply);
    sse.send({ event: 'hello', data: JSON.stringify({ version: deps.version, features: features() }) });
    for (const v of deps.swarms.unfinished()) sse.send({ event: 'swarm', data: JSON.stringify(v) });
    if (listeners.size === 0) start();
    // Others see only what changed; then the newcomer gets the whole current state.
    compare();
    listeners.add(sse);
    for (const s of snapshots) if (s.last !== undefined) sse.send({ event: s.event, data: s.last });
    sse.onClose(() => {
      listeners.delete(sse);
      if (listeners.size === 0) stop();
    });
  });
}
