import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export interface RunProcessOptions {
  bin: string;
  args: string[];
  stdin?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL to the process group. */
  killGraceMs: number;
  signal?: AbortSignal;
  /** Called with the new process group's id once the leader is spawned (it is recorded so a restart can end it). */
  onSpawn?(pgid: number): void;
  onStdoutLine(line: string): void;
  onStderrLine(line: string): void;
}

export interface ProcessOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  /** The binary was not found (ENOENT). */
  notFound: boolean;
}

/** Calls `emit` with each complete line; CRLF tolerated; the rest waits for more data. */
export function lineSplitter(emit: (line: string) => void): { push(chunk: string): void; flush(): void } {
  let buf = '';
  return {
    push(chunk) {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        emit(line.endsWith('\r') ? line.slice(0, -1) : line);
      }
    },
    flush() {
      if (buf) emit(buf.endsWith('\r') ? buf.slice(0, -1) : buf);
      buf = '';
    },
  };
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* ESRCH: the group is already gone */
  }
}

/** Process ids whose process group is `pgid`, from /proc; undefined where there is no /proc. */
function membersOf(pgid: number): number[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[2]) === pgid) out.push(Number(e));
    } catch {
      /* the process ended while we looked */
    }
  }
  return out;
}

function environOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/**
 * End a job's process group left behind by a daemon that died (kill -9, crash). A pgid can be
 * reused after its group ends, so where /proc exists the group is killed only if one of its
 * members carries the job's COLONY_JOB_ID. Returns whether a signal was sent.
 */
export function killLeftoverGroup(pgid: number, jobId: string): boolean {
  const members = membersOf(pgid);
  if (members !== undefined) {
    const mark = `COLONY_JOB_ID=${jobId}`;
    if (members.length === 0 || !members.some((pid) => environOf(pid).includes(mark))) return false;
  }
  killGroup(pgid, 'SIGKILL');
  return true;
}

/**
 * Run an agent CLI (or a setup command) in its own process group (argument array, no shell). On timeout or
 * abort the whole group gets SIGTERM, then SIGKILL after the grace; after the leader exits
 * the group is SIGKILLed once more so no grandchild outlives the job.
 */
export function runProcess(o: RunProcessOptions): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    const outcome: ProcessOutcome = { exitCode: null, signal: null, timedOut: false, cancelled: false, notFound: false };
    if (o.signal?.aborted) {
      resolve({ ...outcome, cancelled: true });
      return;
    }
    const child = spawn(o.bin, o.args, {
      cwd: o.cwd,
      env: o.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    if (child.pid !== undefined) o.onSpawn?.(child.pid);
    let killTimer: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let done = false;

    const stop = (reason: 'timeout' | 'cancel'): void => {
      if (done || child.pid === undefined) return;
      if (reason === 'timeout') outcome.timedOut = true;
      else outcome.cancelled = true;
      killGroup(child.pid, 'SIGTERM');
      killTimer ??= setTimeout(() => killGroup(child.pid!, 'SIGKILL'), o.killGraceMs);
    };
    const onAbort = (): void => stop('cancel');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.timeoutMs !== undefined) timeoutTimer = setTimeout(() => stop('timeout'), o.timeoutMs);

    const out = lineSplitter(o.onStdoutLine);
    const err = lineSplitter(o.onStderrLine);
    child.stdout.setEncoding('utf8').on('data', (d: string) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => err.push(d));
    child.stdin.on('error', () => undefined); // EPIPE when the CLI does not read stdin
    if (o.stdin !== undefined) child.stdin.end(o.stdin);
    else child.stdin.end();

    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      o.signal?.removeEventListener('abort', onAbort);
      out.flush();
      err.flush();
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      resolve(outcome);
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') outcome.notFound = true;
      else o.onStderrLine(`spawn failed: ${e.message}`);
      finish();
    });
    // When the leader exits, grandchildren still holding its pipes would keep 'close' from
    // ever firing: end the group now (what they wrote stays readable in the pipes).
    child.on('exit', () => {
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    });
    // 'close' waits for stdio to end: every line is read before the outcome is reported.
    child.on('close', (code, signal) => {
      outcome.exitCode = code;
      outcome.signal = signal;
      finish();
    });
  });
}
