import { Command, CommanderError } from 'commander';
import { isColonyError } from '../lib/errors.js';
import { VERSION } from '../version.js';

type Register = (program: Command) => void;

/**
 * Command groups by top-level name, each loaded only when its command runs (or for the
 * full help): a command pays for its own imports, not for the daemon's (fastify, SQLite,
 * the MCP SDK, the tokenizer…). Add one line per command module here.
 */
const GROUPS: Record<string, () => Promise<Register>> = {
  serve: async () => (await import('./serve.js')).registerServe,
  run: async () => (await import('./jobs.js')).registerRun,
  jobs: async () => (await import('./jobs.js')).registerJobs,
  coord: async () => (await import('./coord.js')).registerCoord,
  task: async () => (await import('./coord.js')).registerTask,
  mcp: async () => (await import('./mcp.js')).registerMcp,
  embedder: async () => (await import('./embedder.js')).registerEmbedder,
  hub: async () => (await import('./hub.js')).registerHub,
  identity: async () => (await import('./identity.js')).registerIdentity,
  memory: async () => (await import('./memory.js')).registerMemory,
  land: async () => (await import('./land.js')).registerLand,
  queue: async () => (await import('./land.js')).registerQueue,
  swarm: async () => (await import('./swarm.js')).registerSwarm,
};

function newProgram(): Command {
  return new Command('colony')
    .description('Colony: a runtime for swarms of AI coding agents working on one git repository')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
}

/** The first argument that is not an option: the command group asked for, if any. */
function commandName(args: string[]): string | undefined {
  return args.find((a) => !a.startsWith('-'));
}

/** The whole CLI, every group loaded (for help, and for tests that inspect it). */
export async function buildProgram(): Promise<Command> {
  const program = newProgram();
  for (const load of Object.values(GROUPS)) (await load())(program);
  return program;
}

/** Only what `args` needs: its group, or nothing for `--version`, or everything for help. */
async function programFor(args: string[]): Promise<Command> {
  const name = commandName(args);
  if (name && Object.hasOwn(GROUPS, name)) {
    const program = newProgram();
    (await GROUPS[name]!())(program);
    return program;
  }
  if (!name && args.length > 0 && args.every((a) => a === '--version' || a === '-V')) return newProgram();
  return buildProgram();
}

export async function main(argv: string[]): Promise<void> {
  try {
    const args = argv.slice(2);
    // The pre-commit hook runs on every commit: straight to its code, no command parser.
    if (args[0] === 'coord' && args[1] === 'hook-check' && args.length === 2) {
      await (await import('./hook-check.js')).hookCheck();
      return;
    }
    const program = await programFor(args);
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
