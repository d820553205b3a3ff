import { Command, CommanderError } from 'commander';
import { isColonyError } from '../lib/errors.js';
import { VERSION } from '../version.js';
import { registerServe } from './serve.js';
import { registerJobs } from './jobs.js';
import { registerCoord, registerTask } from './coord.js';
import { registerMcp } from './mcp.js';
import { registerHub } from './hub.js';
import { registerIdentity } from './identity.js';
import { registerMemory } from './memory.js';

export function buildProgram(): Command {
  const program = new Command('colony')
    .description('Colony: a runtime for swarms of AI coding agents working on one git repository')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerServe(program);
  registerJobs(program);
  registerCoord(program);
  registerTask(program);
  registerMcp(program);
  registerHub(program);
  registerIdentity(program);
  registerMemory(program);
  // command groups: add one register line per module here
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    const msg = isColonyError(err) ? err.message : (err as Error)?.message ?? String(err);
    process.stderr.write(`colony: ${msg}\n`);
    if (process.env.COLONY_DEBUG) process.stderr.write(`${(err as Error)?.stack}\n`);
    process.exitCode = 1;
  }
}
