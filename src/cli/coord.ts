import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { TaskListEntry } from '../coord/service.js';
import { InvalidInputError } from '../lib/errors.js';
import { colonyPaths, ensureColonyDir } from '../daemon/paths.js';
import { connectDaemon } from './client.js';
import { holdersTable, plural, printResult, table } from './output.js';
import { resolveRepoRoot } from './repo.js';
import { registerSyncCommands } from './sync.js';

/** The caller's run: --run, else COLONY_RUN_ID (set in every Colony job), else the user. */
function runOf(o: { run?: string }): string {
  return o.run ?? process.env.COLONY_RUN_ID ?? `cli-${userInfo().username}`;
}

function num(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new InvalidInputError(`${name} must be a number, got '${v}'`);
    return n;
  };
}

const holders = holdersTable;

/** Shared flags of every coordination command. */
function common(cmd: Command): Command {
  return cmd.option('--repo <dir>', 'repository whose daemon to use').option('--json', 'print JSON');
}

export function registerCoord(program: Command): void {
  const coord = program.command('coord').description('reserve code, declare intents, heartbeat, and inspect who holds what');
  registerSyncCommands(coord);

  common(coord.command('reserve').description('reserve files, symbols (path::Name) or globs').argument('<symbols...>'))
    .option('--run <id>', 'run id (default: COLONY_RUN_ID)')
    .option('--ttl <s>', 'seconds until expiry (default 600)', num('--ttl'))
    .option('--shared', 'shared reservation (only exclusive ones conflict with it)')
    .action(async (symbols: string[], o) => {
      const r = await connectDaemon(o.repo).request('POST', '/coord/reserve', {
        run_id: runOf(o),
        symbols,
        ttl_seconds: o.ttl,
        mode: o.shared ? 'shared' : undefined,
      });
      printResult(o.json, r, (v) => (v.granted ? `granted ${v.reservation_id} until ${v.expires_at}` : `refused: held by\n${holders(v.conflicts)}`));
      if (!r.granted) process.exitCode = 2;
    });
  common(coord.command('release').description('release one of your reservations').argument('<reservation_id>'))
    .option('--run <id>', 'run id (default: COLONY_RUN_ID)')
    .action(async (id: string, o) => {
      const r = await connectDaemon(o.repo).request('POST', '/coord/release', { run_id: runOf(o), reservation_id: id });
      printResult(o.json, r, (v) => (v.released ? `released ${id}` : `${id} was already released`));
    });
  common(coord.command('heartbeat').description('extend every reservation and claim of your run'))
    .option('--run <id>', 'run id (default: COLONY_RUN_ID)')
    .option('--ttl <s>', 'seconds from now (default 600)', num('--ttl'))
    .action(async (o) => {
      const r = await connectDaemon(o.repo).request('POST', '/coord/heartbeat', { run_id: runOf(o), ttl_seconds: o.ttl });
      printResult(o.json, r, (v) => `extended to ${v.extended_expires_at} (${plural(v.reservations, 'reservation')}, ${plural(v.claims, 'claim')})`);
    });
  common(coord.command('intent').description('declare an operation on a target inside a reservation').argument('<reservation_id>').argument('<operation>', 'create|modify|delete|rename').argument('<target>'))
    .option('--run <id>', 'run id (default: COLONY_RUN_ID)')
    .action(async (reservation_id: string, operation: string, target: string, o) => {
      const r = await connectDaemon(o.repo).request('POST', '/coord/intent', { run_id: runOf(o), reservation_id, operation, target });
      printResult(o.json, r, (v) => `intent ${v.intent_id}`);
    });
  common(coord.command('status').description('active reservations'))
    .option('--run <id>', 'only this run')
    .action(async (o) => {
      const r = await connectDaemon(o.repo).request('GET', `/coord/status${o.run ? `?run_id=${encodeURIComponent(o.run)}` : ''}`);
      printResult(o.json, r, (v) => holders(v.reservations));
    });
  common(coord.command('check').description('who holds any of these files or symbols').argument('<symbols...>')).action(async (symbols: string[], o) => {
    const r = await connectDaemon(o.repo).request('POST', '/coord/check', { symbols });
    printResult(o.json, r, (v) => holders(v.holders));
  });
  common(coord.command('gc').description('remove expired and released records past a grace period'))
    .option('--dry-run', 'count what would be removed')
    .option('--grace <s>', 'seconds a dead record is kept (default 0)', num('--grace'), 0)
    .action(async (o) => {
      // In-process on the store file (WAL lets it run beside the daemon), with progress.
      const [{ openDatabase }, { colonyMigrations }, { CoordService }, { systemClock }] = await Promise.all([
        import('../lib/sqlite.js'),
        import('../daemon/migrations.js'),
        import('../coord/service.js'),
        import('../lib/clock.js'),
      ]);
      const repo = resolveRepoRoot(o.repo);
      ensureColonyDir(colonyPaths(repo));
      const db = openDatabase(colonyPaths(repo).db, { migrations: colonyMigrations });
      try {
        const service = new CoordService({ db, clock: systemClock });
        const tty = process.stderr.isTTY;
        const r = service.gc({
          dryRun: !!o.dryRun,
          graceSeconds: o.grace,
          onProgress: (done, total) => {
            if (total >= 1000) process.stderr.write(`${tty ? '\r' : ''}gc: ${done}/${total} reservations${tty && done < total ? '' : '\n'}`);
          },
        });
        printResult(o.json, r, (v) =>
          `${o.dryRun ? 'would remove' : 'removed'}: ${Object.entries(v).map(([k, n]) => plural(n as number, k.replace(/ies_removed$/, 'y').replace(/s_removed$/, ''), k.replace('_removed', ''))).join(', ')}`,
        );
      } finally {
        db.close();
      }
    });
  const hook = coord.command('hook').description('git pre-commit hook that refuses commits touching code reserved by another run');
  common(hook.command('install').description('install the hook into this repository')).action(async (o) => {
    const { installPreCommitHook } = await import('../coord/hook.js');
    const r = await installPreCommitHook(resolveRepoRoot(o.repo));
    printResult(o.json, r, (v) => (v.installed ? `installed ${v.path}` : `not installed: ${v.reason} (${v.path})`));
    if (!r.installed) process.exitCode = 1;
  });
  coord
    .command('hook-check', { hidden: true })
    .description('used by the pre-commit hook: refuse staged files reserved by another run')
    .action(async () => (await import('./hook-check.js')).hookCheck());
}

/** done, claimed by a run, waiting on unfinished dependencies, or ready to claim. */
function taskState(t: TaskListEntry, done: ReadonlySet<string>): string {
  if (t.completed_at) return 'done';
  if (t.claimed_by) return `claimed by ${t.claimed_by}`;
  const waiting = t.depends_on.filter((d) => !done.has(d));
  return waiting.length ? `waits on ${waiting.join(', ')}` : 'ready';
}

export function registerTask(program: Command): void {
  const task = program.command('task').description('split work into tasks with dependencies and claim them atomically');
  common(task.command('add').description('create a task').argument('<description>'))
    .option('--run <id>', 'run id (default: COLONY_RUN_ID)')
    .option('--priority <n>', 'higher runs first (default 0)', num('--priority'))
    .option('--after <task_ids...>', 'tasks that must complete first')
    .action(async (description: string, o) => {
      const r = await connectDaemon(o.repo).request('POST', '/tasks/create', { run_id: runOf(o), description, priority: o.priority, depends_on: o.after });
      printResult(o.json, r, (v) => `created ${v.task_id}`);
    });
  common(task.command('claim').description('claim a task').argument('<task_id>'))
    .option('--run <id>', 'run id (default: COLONY_RUN_ID)')
    .option('--ttl <s>', 'seconds (default 600)', num('--ttl'))
    .action(async (task_id: string, o) => {
      const r = await connectDaemon(o.repo).request('POST', '/tasks/claim', { run_id: runOf(o), task_id, ttl_seconds: o.ttl });
      printResult(o.json, r, (v) => (v.claimed ? `claimed until ${v.expires_at}` : `not claimed: ${v.holder ? `held by ${v.holder.run_id}` : v.reason}`));
      if (!r.claimed) process.exitCode = 2;
    });
  common(task.command('done').description('complete a task').argument('<task_id>'))
    .option('--run <id>', 'run id (default: COLONY_RUN_ID)')
    .action(async (task_id: string, o) => {
      const r = await connectDaemon(o.repo).request('POST', '/tasks/complete', { run_id: runOf(o), task_id });
      printResult(o.json, r, (v) => (v.completed ? `completed ${task_id}` : `${task_id} was already complete`));
    });
  common(task.command('abandon').description('give up your claim on a task').argument('<task_id>'))
    .option('--run <id>', 'run id (default: COLONY_RUN_ID)')
    .action(async (task_id: string, o) => {
      const r = await connectDaemon(o.repo).request('POST', '/tasks/abandon', { run_id: runOf(o), task_id });
      printResult(o.json, r, (v) => (v.abandoned ? `abandoned ${task_id}` : `no live claim of yours on ${task_id}`));
    });
  common(task.command('ready').description('tasks ready to claim'))
    .option('--limit <n>', 'how many', num('--limit'))
    .action(async (o) => {
      const r = await connectDaemon(o.repo).request('GET', `/tasks/ready${o.limit ? `?limit=${o.limit}` : ''}`);
      printResult(o.json, r, (v) =>
        v.tasks.length ? table([['TASK', 'PRIORITY', 'DESCRIPTION'], ...v.tasks.map((t: any) => [t.task_id, String(t.priority), t.description])]) : 'no ready tasks',
      );
    });
  common(task.command('ls').description('every task with its state, and what an open one waits on')).action(async (o) => {
    const r = await connectDaemon(o.repo).request<{ tasks: TaskListEntry[] }>('GET', '/tasks');
    const done = new Set(r.tasks.filter((t) => t.completed_at).map((t) => t.task_id));
    printResult(o.json, r, (v) =>
      v.tasks.length
        ? table([
            ['TASK', 'STATE', 'PRIORITY', 'DESCRIPTION'],
            ...v.tasks.map((t: TaskListEntry) => [t.task_id, taskState(t, done), String(t.priority), t.description]),
          ])
        : 'no tasks',
    );
  });
  common(task.command('dep').description('make a task wait for others').argument('<task_id>').argument('<depends_on...>')).action(async (task_id: string, depends_on: string[], o) => {
    const r = await connectDaemon(o.repo).request('POST', '/tasks/depend', { task_id, depends_on });
    printResult(o.json, r, (v) => `${v.task_id} waits for ${v.depends_on.join(', ')}`);
  });
}
