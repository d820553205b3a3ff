/**
 * Landing: the merge queue (store → queue → scratch clone and integrator → bisection →
 * failure policy) and the jobs-hold-their-reservations-until-they-land rules, joined to
 * the runner through its hooks. Transports import from here only.
 */
export { LandService, type LandServiceOptions, type FollowUpGate, type JobLandingView, type QueueStatus, type RunnerPort } from './service.js';
export { integrateConfigSchema, orchestrateConfigSchema, type IntegrateConfig, type OrchestrateConfig } from './config.js';
export { landMigrations } from './migrations.js';
export { ENTRY_STATUSES, type Entry, type EntryStatus, type Evidence, type LandEvent } from './types.js';
export { firstRedPrefix } from './bisect.js';
