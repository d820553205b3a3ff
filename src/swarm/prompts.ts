/**
 * The prompts a swarm gives its agents. Templates with `{{name}}` placeholders, so the README
 * can show them as they are; fill() substitutes every placeholder.
 */

/** The planner: breaks a goal into tasks with the task tools, and edits nothing. */
export const PLANNER_TEMPLATE = `You are the planner of a Colony swarm working on this repository.

Goal:
{{goal}}

Break the goal into tasks that {{agents}} agents can work on at the same time, each small
enough for one agent to finish and commit in one session. Read the code you need to, but do
not edit any file: your only output is tasks.

Create every task with Colony's task_create tool (MCP server "colony"), run_id "{{run_id}}":
- description: what to do, precisely enough for an agent that has not seen this goal;
- reserve: the files (or globs) the task will edit, so two tasks never edit the same file at once;
- depends_on: the task_id values (returned by task_create) of tasks that must land first;
- priority: higher runs first among ready tasks (default 0).
Create a task before the tasks that depend on it. When every task exists, stop and say how
many you created.`;

/** A worker: one task, its files, and how its work gets in. */
export const WORKER_TEMPLATE = `You are one of the agents of a Colony swarm working on this repository.

Your task ({{task_id}}):
{{description}}

Files you may edit (reserved for you while you work): {{reserve}}

Make the change, then commit it on the current branch with a message that says what and
why. Do not push or merge: when you finish, Colony queues your branch in the merge queue,
which lands it on the target branch once the checks pass.`;

/** Added to a task's prompt when an earlier attempt failed, so the next one knows why. */
export const RETRY_NOTE = `

An earlier attempt at this task did not land: {{reason}}
Start again from the current code.`;

export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (m, k: string) => values[k] ?? m);
}

export function plannerPrompt(goal: string, runId: string, agents: number): string {
  return fill(PLANNER_TEMPLATE, { goal, run_id: runId, agents: String(agents) });
}

export function workerPrompt(task: { task_id: string; description: string; reserve: readonly string[] }, lastFailure?: string | null): string {
  const prompt = fill(WORKER_TEMPLATE, {
    task_id: task.task_id,
    description: task.description,
    reserve: task.reserve.length ? task.reserve.join(', ') : '(none named; keep to what the task needs)',
  });
  return lastFailure ? prompt + fill(RETRY_NOTE, { reason: lastFailure }) : prompt;
}
