/** `colony demo`: a swarm of scripted agents over a small project, offline, in under a minute. */
export { runDemo, stopDemo, describeResult, type DemoResult, type DemoRun } from './run.js';
export { createDemoRepo, demoConfig, DEMO_AGENT } from './setup.js';
export { startDemoDaemon, type DemoDaemon } from './daemon.js';
export { demoTasks, DEMO_STEPS, type DemoStep } from './steps.js';
export { PROJECT_FILES, TARGET_BRANCH } from './project.js';
