import type { Command } from 'commander';

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
    .addHelpText('after', '\nExit status: 0 when every task landed, 1 when one did not, 130 after Ctrl-C (the swarm is cancelled first).')
    .action(async (flags: DemoFlags) => {
      const { runDemo, stopDemo, describeResult } = await import('../demo/index.js');
      const log = (line: string): void => void (flags.json ? process.stderr : process.stdout).write(line + '\n');
      const abort = new AbortController();
      let interrupted = false;
      let keeping = false;
      const onSigint = (): void => {
        if (interrupted) process.exit(130);
        interrupted = true;
        log(keeping ? 'Ctrl-C: stopping the daemon…' : 'Ctrl-C: cancelling the swarm (again to quit at once)…');
        abort.abort();
      };
      process.on('SIGINT', onSigint);
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
        process.exitCode = cancelled ? 130 : run.result.landed === run.result.total && run.result.status === 'completed' ? 0 : 1;
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
