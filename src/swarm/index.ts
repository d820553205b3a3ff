/**
 * Swarms: a goal, a task list or the repository's open tasks worked through by several
 * agents at once, each task a job that lands through the merge queue. Transports import
 * from here only.
 */
export { SwarmService, type SwarmServiceOptions, type SwarmRunnerPort, type SwarmLandPort } from './service.js';
export { swarmMigrations } from './migrations.js';
export { swarmRequestSchema, taskSpecSchema, orderSpecs, MAX_SWARM_AGENTS, MAX_SWARM_TASKS, MAX_GOAL_BYTES, DEFAULT_AGENTS, DEFAULT_MAX_ATTEMPTS } from './specs.js';
export { parseTasksFile, MAX_TASKS_FILE_BYTES } from './tasks-file.js';
export { PLANNER_TEMPLATE, WORKER_TEMPLATE, RETRY_NOTE, plannerPrompt, workerPrompt } from './prompts.js';
export * from './types.js';
