import type { Command } from 'commander';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

interface DemoFlags {
  keep?: boolean;
  dir?: string;
  json?: boolean;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run a swarm of scripted agents over a small project in a temporary repository (offline, no agent CLI needed)')
    .option('--keep', 'keep the daemon running afterwards for the dashboard (Ctrl-C stops it)')
    .option('--dir <dir>', 'create the demo repository here (a new or empty directory) and keep it')
    .option('--json', 'print the summary as JSON (progress goes to stderr)')
    .addHelpText('after', '\nExit status: 0 when every task landed, 1 when one did not, 130 after Ctrl-C, 143 after SIGTERM, 129 after SIGHUP (the swarm is cancelled and the daemon stopped first).')
    .action(async (flags: DemoFlags) => {
      const { runDemo, stopDemo, describeResult } = await import('../demo/index.js');
      const log = (line: string): void => void (flags.json ? process.stderr : process.stdout).write(line + '\n');
      const abort = new AbortController();
      let interrupted = false;
      let keeping = false;
      // Ctrl-C, and a terminal closing or `kill` alike: cancel the swarm and stop the daemon
      // child, which would otherwise outlive the demo. Exit status 128 + the signal's number.
      let exitStatus = 130;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (interrupted) process.exit(exitStatus);
        interrupted = true;
        exitStatus = 128 + (signal === 'SIGHUP' ? 1 : signal === 'SIGTERM' ? 15 : 2);
        const what = signal === 'SIGINT' ? 'Ctrl-C' : signal;
        log(keeping ? `${what}: stopping the daemon…` : `${what}: cancelling the swarm (again to quit at once)…`);
        abort.abort();
      };
      for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
      try {
        const run = await runDemo({ dir: flags.dir, signal: abort.signal, log });
        const cancelled = interrupted;
        if (flags.json) process.stdout.write(JSON.stringify(run.result, null, 2) + '\n');
        else for (const line of describeResult(run.result)) log(line);
        if (flags.keep && !cancelled) {
          keeping = true;
          log(`\nThe dashboard stays up at ${run.result.url}/ (token ${run.result.token}); Ctrl-C stops it.`);
          await new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
        }
        await stopDemo(run, flags.dir !== undefined);
        if (flags.dir === undefined) log(flags.json ? `removed ${run.result.repo}` : `Removed ${run.result.repo} (keep it with --dir <dir>).`);
        else log(`The repository stays in ${run.result.repo} (git -C ${run.result.repo} log main).`);
        process.exitCode = cancelled ? exitStatus : run.result.landed === run.result.total && run.result.status === 'completed' ? 0 : 1;
      } finally {
        for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      }
    });
}
