import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, realpathSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve, sep, dirname, isAbsolute } from 'node:path';
import ignore from 'ignore';
import type { Logger } from '../lib/log.js';
import { ColonyError } from '../lib/errors.js';
import { Mutex } from '../lib/mutex.js';
import { git } from './git.js';
import { runProcess } from './process.js';
import { assertUnlocked, gitCryptState, unlockClone } from './git-crypt.js';
import type { FinishOptions, FinishResult, PrepareOptions, Workspace } from './workspace-types.js';
import type { DiffStat } from './types.js';

export interface WorkspaceManagerOptions {
  baseRepo: string;
  /** Directory holding one folder per job, on the base's filesystem so objects hardlink. */
  root: string;
  logger: Logger;
  keep?: 'on_failure' | 'always' | 'never';
}

/** Identity for the runner's own commit when neither repo nor user configures one. */
const FALLBACK_IDENTITY = { GIT_AUTHOR_NAME: 'Colony', GIT_AUTHOR_EMAIL: 'colony@localhost' };

/** One lock per base repository, shared by every manager in the process (exported for the conformance test that shows the agent runs outside it). */
const baseLocks = new Map<string, Mutex>();
export function lockFor(base: string): Mutex {
  let m = baseLocks.get(base);
  if (!m) baseLocks.set(base, (m = new Mutex()));
  return m;
}

export function parseShortStat(s: string): DiffStat {
  const n = (re: RegExp): number => Number(re.exec(s)?.[1] ?? 0);
  return { files: n(/(\d+) files? changed/), insertions: n(/(\d+) insertions?\(\+\)/), deletions: n(/(\d+) deletions?\(-\)/) };
}

/**
 * Isolated checkouts for jobs: a local clone of the base repository (objects hardlinked by
 * `git clone --local`) on branch `colony/<job_id>`. Preparing and cleaning up are serialised
 * per base; the agent run itself holds no lock.
 */
export class WorkspaceManager {
  private readonly lock: Mutex;

  constructor(private readonly opts: WorkspaceManagerOptions) {
    this.lock = lockFor(resolve(opts.baseRepo));
  }

  async prepare(p: PrepareOptions): Promise<Workspace> {
    const base = this.opts.baseRepo;
    const dir = join(this.opts.root, p.jobId);
    const branch = `colony/${p.jobId}`;
    // Preparation has its own clock: a hung clone or copy must not hold a slot forever.
    const phase = phaseSignal(p.signal, p.prepareTimeoutMs);
    let baseCommit: string;
    let gitCrypt = false;
    try {
      baseCommit = await this.lock.run(async () => {
        const ref = p.baseRef ?? 'HEAD';
        const resolved = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], {
          cwd: base,
          okCodes: [1],
        });
        if (resolved.code !== 0 || !resolved.stdout.trim()) {
          throw new ColonyError('bad_ref', `base_ref '${ref}' does not name a commit in ${base}`, 400);
        }
        const commit = resolved.stdout.trim();
        mkdirSync(this.opts.root, { recursive: true });
        rmSync(dir, { recursive: true, force: true });
        await git(['clone', '--local', '--no-checkout', '--quiet', base, dir], { cwd: this.opts.root, signal: phase.signal });
        return commit;
      });
      // Parallel checkout: the working tree is most of the cost on large repositories.
      await git(['-c', 'checkout.workers=0', 'checkout', '--quiet', '-b', branch, baseCommit], { cwd: dir, signal: phase.signal });
      await this.copyIncluded(dir, phase.signal);
      const crypt = await gitCryptState(base, baseCommit);
      if (crypt.uses) {
        await unlockClone(base, dir, crypt, phase.signal);
        gitCrypt = true;
      }
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      if (phase.timedOut()) {
        throw new ColonyError(
          'prepare_timeout',
          `preparing the workspace (clone, include copy, git-crypt unlock) did not finish within ${p.prepareTimeoutMs! / 1000} s (prepare_timeout)`,
        );
      }
      throw err;
    } finally {
      phase.clear();
    }
    let setupFiles: Map<string, string> | undefined;
    if (p.setup) {
      try {
        const before = new Set(await untrackedFiles(dir));
        await this.runSetup(p, dir);
        setupFiles = await this.hideSetupFiles(dir, (await untrackedFiles(dir)).filter((f) => !before.has(f)));
      } catch (err) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
    return { dir, branch, baseCommit, ...(gitCrypt ? { gitCrypt } : {}), ...(setupFiles?.size ? { setupFiles } : {}) };
  }

  /**
   * Keep what setup created (installed dependencies, generated files) out of the job's branch:
   * listed in the workspace's own info/exclude, so neither the agent's `git add -A` nor the
   * leftover commit takes them; their blob ids are kept to notice the agent changing one.
   */
  private async hideSetupFiles(dir: string, createdAll: string[]): Promise<Map<string, string>> {
    // hash-object reads one path per line: a name holding a newline stays visible.
    const created = createdAll.filter((f) => !f.includes('\n'));
    const ids = await blobIds(dir, created);
    if (created.length) {
      const exclude = (await git(['rev-parse', '--git-path', 'info/exclude'], { cwd: dir })).stdout.trim();
      const path = isAbsolute(exclude) ? exclude : join(dir, exclude);
      mkdirSync(dirname(path), { recursive: true });
      appendFileSync(path, `# created by the setup command\n${created.map(excludeLine).join('\n')}\n`);
    }
    return new Map(created.map((f, i) => [f, ids[i]!]));
  }

  /**
   * Copy files named by `.colonyinclude` (gitignore syntax) from the base into the workspace,
   * for the agent to use (e.g. `.env`), never to commit: each copied entry is listed in the
   * workspace's `.git/info/exclude`. Nothing under `.colony/` or `.git/` is copied, and a
   * symlink (at the top or inside an included directory) is followed only when its target
   * stays inside the repository; otherwise it is skipped.
   */
  private async copyIncluded(dir: string, signal: AbortSignal): Promise<void> {
    const base = this.opts.baseRepo;
    const listFile = join(base, '.colonyinclude');
    if (!existsSync(listFile)) return;
    const text = readFileSync(listFile, 'utf8');
    const patterns = ignore().add(text);
    const prefixes = pathPrefixes(text);
    const root = realpathSync(base);
    const copied: string[] = [];
    const copy = async (rel: string): Promise<void> => {
      if (signal.aborted) throw new ColonyError('cancelled', 'cancelled');
      if (copyFollowingInsideLinks(root, join(root, rel), join(dir, rel), new Set())) copied.push(rel);
    };
    for (const rel of await listUntracked(root, signal)) {
      if (patterns.ignores(rel)) {
        await copy(rel);
      } else if (rel.endsWith('/') && prefixes.some((p) => p.startsWith(rel))) {
        // A wholly untracked directory that a path pattern reaches into: look inside it.
        for (const inner of readdirSync(join(root, rel), { recursive: true }) as string[]) {
          const innerRel = rel + inner.split(sep).join('/');
          if (patterns.ignores(innerRel)) await copy(innerRel);
        }
      }
    }
    if (copied.length) {
      const exclude = join(dir, '.git', 'info', 'exclude');
      mkdirSync(dirname(exclude), { recursive: true });
      appendFileSync(exclude, `\n# copied by .colonyinclude: for the agent, never committed\n${copied.map(excludeLine).join('\n')}\n`);
    }
  }

  /** The operator's setup command, in its own process group, under setup_timeout. */
  private async runSetup(p: PrepareOptions, dir: string): Promise<void> {
    const setup = p.setup!;
    // A string is the operator's own config, run by a shell on purpose; never built from input.
    const argv = typeof setup === 'string' ? ['sh', '-c', setup] : setup;
    const tail: string[] = [];
    const keep = (line: string): void => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
    };
    const r = await runProcess({
      bin: argv[0]!,
      args: argv.slice(1),
      cwd: dir,
      env: { ...process.env, ...p.env },
      timeoutMs: p.setupTimeoutMs,
      killGraceMs: p.killGraceMs ?? 5000,
      signal: p.signal,
      onSpawn: p.onProcessGroup,
      onStdoutLine: keep,
      onStderrLine: keep,
    });
    const output = tail.join('\n').trim().slice(-1000);
    if (r.notFound) throw new ColonyError('setup_failed', `setup command '${argv[0]}' not found on PATH`);
    if (r.cancelled) throw new ColonyError('cancelled', 'cancelled');
    if (r.timedOut) {
      throw new ColonyError(
        'setup_timeout',
        `setup command ${JSON.stringify(setup)} did not finish within ${p.setupTimeoutMs! / 1000} s (setup_timeout); its process group was killed`,
      );
    }
    if (r.exitCode !== 0) {
      const how = r.signal ? `was killed by ${r.signal}` : `exited with ${r.exitCode}`;
      throw new ColonyError('setup_failed', `setup command ${JSON.stringify(setup)} ${how}: ${output}`);
    }
  }

  /**
   * Commit whatever the agent left, fetch the branch back into the base as
   * `colony/<job_id>`, and report the commits and diff stat since the start.
   */
  async finish(ws: Workspace, jobId: string, opts: FinishOptions = {}): Promise<FinishResult> {
    // Never commit or fetch back ciphertext (or plaintext a locked checkout would store unencrypted).
    if (ws.gitCrypt) await assertUnlocked(ws.dir);
    await git(['add', '-A'], { cwd: ws.dir });
    // Setup's files are excluded; one the agent changed is its work and goes in after all.
    if (ws.setupFiles?.size) {
      const paths = [...ws.setupFiles.keys()].filter((f) => existsSync(join(ws.dir, f)));
      const now = await blobIds(ws.dir, paths);
      const changed = paths.filter((f, i) => now[i] !== ws.setupFiles!.get(f));
      for (let i = 0; i < changed.length; i += 1000) await git(['add', '-f', '--', ...changed.slice(i, i + 1000)], { cwd: ws.dir });
    }
    const staged = (await git(['diff', '--cached', '--name-only', '--no-renames', '-z'], { cwd: ws.dir })).stdout.split('\0').filter(Boolean);
    if (opts.checkCommit) {
      // The pre-commit hook's reservation check, over everything the branch would bring back:
      // the leftovers (committed below with --no-verify) and the agent's own commits, which
      // `git commit --no-verify` or a removed hook may have let through.
      const committed = (await git(['diff', '--name-only', '--no-renames', '-z', ws.baseCommit, 'HEAD'], { cwd: ws.dir })).stdout.split('\0').filter(Boolean);
      const touched = [...new Set([...committed, ...staged])];
      const refusal = touched.length ? await opts.checkCommit(touched) : undefined;
      if (refusal) throw new ColonyError('commit_refused', refusal, 409);
    }
    if (staged.length) {
      const hasIdentity = (await git(['config', 'user.email'], { cwd: ws.dir, okCodes: [1] })).code === 0;
      // --no-verify: the hook's check was just made in-process, and a repository's own hooks are not the agent's.
      // Unsigned: a signer waiting for a passphrase would hang the job; this commit is Colony's, not the user's.
      await git(['-c', 'commit.gpgsign=false', 'commit', '--quiet', '--no-verify', '-m', `colony: ${jobId}`], {
        cwd: ws.dir,
        env: hasIdentity ? {} : { ...FALLBACK_IDENTITY, GIT_COMMITTER_NAME: 'Colony', GIT_COMMITTER_EMAIL: 'colony@localhost' },
      });
    }
    const head = (await git(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd: ws.dir, okCodes: [1] })).stdout.trim();
    // The agent may have switched branches; what it ends on is its work.
    const source = head || 'HEAD';
    await this.lock.run(() =>
      git(['fetch', '--quiet', '--no-tags', ws.dir, `+${source}:refs/heads/${ws.branch}`], { cwd: this.opts.baseRepo }),
    );
    const revs = await git(['rev-list', '--reverse', `${ws.baseCommit}..HEAD`], { cwd: ws.dir });
    const stat = await git(['diff', '--shortstat', ws.baseCommit, 'HEAD'], { cwd: ws.dir });
    return {
      branch: ws.branch,
      commits: revs.stdout.split('\n').filter(Boolean),
      diff_stat: parseShortStat(stat.stdout),
    };
  }

  /** Delete the workspace unless the keep policy says otherwise. */
  async remove(ws: Workspace, outcome: 'success' | 'failure'): Promise<void> {
    const keep = this.opts.keep ?? 'on_failure';
    if (keep === 'always' || (keep === 'on_failure' && outcome === 'failure')) return;
    await this.lock.run(() => rm(ws.dir, { recursive: true, force: true }));
  }
}

/**
 * Untracked paths of the base (ignored ones included), wholly untracked directories
 * collapsed to one `dir/` entry, so a large node_modules costs one line.
 */
async function listUntracked(root: string, signal: AbortSignal): Promise<string[]> {
  const out = (await git(['ls-files', '-z', '--others', '--directory'], { cwd: root, signal })).stdout;
  return out
    .split('\0')
    .filter(Boolean)
    .filter((rel) => !rel.startsWith('.colony/') && !rel.startsWith('.git/'));
}

/**
 * The caller's cancel signal, plus a timer when `timeoutMs` is given; `timedOut()` tells the
 * two apart so the error can name the phase that ran out of time.
 */
function phaseSignal(parent: AbortSignal | undefined, timeoutMs: number | undefined): {
  signal: AbortSignal;
  timedOut(): boolean;
  clear(): void;
} {
  const c = new AbortController();
  let fired = false;
  const onParent = (): void => c.abort();
  if (parent?.aborted) c.abort();
  else parent?.addEventListener('abort', onParent, { once: true });
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          fired = true;
          c.abort();
        }, timeoutMs);
  return {
    signal: c.signal,
    timedOut: () => fired && !parent?.aborted,
    clear: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}

/**
 * Literal directory prefixes of path patterns (`config/local.json` → `config/`), used to
 * decide which collapsed untracked directories are worth looking into. Patterns without a
 * slash match at the top of such directories only through the directory entry itself.
 */
function pathPrefixes(patternText: string): string[] {
  const out: string[] = [];
  for (const raw of patternText.split('\n')) {
    const line = raw.trim().replace(/^\//, '');
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const slash = line.slice(0, -1).lastIndexOf('/');
    if (slash < 0) continue;
    const literal = line.slice(0, slash + 1).split(/[*?[]/)[0]!;
    if (literal) out.push(literal);
  }
  return out;
}

/** Is `path` the directory `dir` or inside it? */
function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir + sep);
}

/**
 * Copy `src` (a path in the repository `root`) to `dest`, following symlinks only to targets
 * inside the repository and outside its `.colony/` and `.git/`; directories are walked so a
 * link inside them is judged the same way. `ancestors` (real directories being walked) stops
 * link loops. True when anything was copied.
 */
function copyFollowingInsideLinks(root: string, src: string, dest: string, ancestors: Set<string>): boolean {
  let real: string;
  try {
    real = realpathSync(src);
  } catch {
    return false; // dangling link
  }
  if (!within(real, root) || within(real, join(root, '.colony')) || within(real, join(root, '.git'))) return false;
  const st = statSync(real);
  if (st.isFile()) {
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(real, dest);
    return true;
  }
  if (!st.isDirectory() || ancestors.has(real)) return false;
  ancestors.add(real);
  let any = false;
  for (const name of readdirSync(real)) {
    if (copyFollowingInsideLinks(root, join(real, name), join(dest, name), ancestors)) any = true;
  }
  ancestors.delete(real);
  return any;
}

/** An anchored info/exclude line naming exactly this path (gitignore specials escaped). */
function excludeLine(rel: string): string {
  return '/' + rel.replace(/[\\*?[\]!#]/g, (c) => `\\${c}`).replace(/^ /, '\\ ').replace(/ $/, '\\ ');
}

/** Untracked, not ignored files of a checkout, one by one. */
async function untrackedFiles(dir: string): Promise<string[]> {
  const r = await git(['ls-files', '-z', '--others', '--exclude-standard'], { cwd: dir });
  return r.stdout.split('\0').filter(Boolean);
}

/** Blob ids of files, in order, from one git process. */
async function blobIds(dir: string, files: string[]): Promise<string[]> {
  if (files.length === 0) return [];
  return new Promise((resolveP, reject) => {
    const child = spawn('git', ['hash-object', '--stdin-paths', '--no-filters'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolveP(out.split('\n').filter(Boolean)) : reject(new ColonyError('git_failed', `git hash-object failed: ${err.trim()}`)),
    );
    child.stdin.end(files.join('\n') + '\n');
  });
}

