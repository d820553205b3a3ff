import type { TaskPatch } from './store.js';
import type { SwarmTask } from './types.js';

/**
 * Waiting ↔ ready by dependencies, and stuck when one is stuck or cancelled ("blocked by …"),
 * transitively. `outsideOpen` says whether a dependency the swarm does not own is still open.
 * Applies the patches to `tasks` as it goes and returns them, in order, to be stored.
 */
export function settleDependencies(tasks: SwarmTask[], outsideOpen: (taskId: string) => boolean): { task: SwarmTask; patch: TaskPatch }[] {
  const byId = new Map(tasks.map((t) => [t.task_id, t]));
  const out: { task: SwarmTask; patch: TaskPatch }[] = [];
  const apply = (task: SwarmTask, patch: TaskPatch): void => {
    Object.assign(task, patch);
    out.push({ task, patch });
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const t of tasks) {
      if (t.state !== 'waiting' && t.state !== 'ready') continue;
      let blocked: SwarmTask | undefined;
      let waitingOn: string | undefined;
      for (const d of t.depends_on) {
        const own = byId.get(d);
        if (own) {
          if (own.state === 'stuck' || own.state === 'cancelled') blocked ??= own;
          else if (own.state !== 'landed') waitingOn ??= `waiting on ${own.key ?? own.task_id}`;
        } else if (outsideOpen(d)) waitingOn ??= `waiting on ${d}, a task outside this swarm`;
      }
      if (blocked) {
        apply(t, { state: 'stuck', reason: `blocked by ${blocked.key ?? blocked.task_id}` });
        changed = true;
      } else if (waitingOn) {
        if (t.state !== 'waiting' || t.reason !== waitingOn) apply(t, { state: 'waiting', reason: waitingOn });
      } else if (t.state === 'waiting') apply(t, { state: 'ready', reason: null });
    }
  }
  return out;
}
