import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { git } from '../runner/git.js';
import { runProcess } from '../runner/process.js';
import type { Evidence } from './types.js';

/** A checked-out target's working tree refused to be updated (git's reason in the message). */
export class WorkingTreeRefusal extends Error {}

export type Strategy = 'rebase' | 'merge' | 'squash';

export type ApplyResult = { ok: true; commit: string } | { ok: false; evidence: Evidence };

export interface CheckResult {
  ok: boolean;
  exit_code: number | null;
  timed_out: boolean;
  output_tail: string;
}

/** Bytes of conflict hunks and check output kept as evidence. */
const HUNKS_MAX = 16_000;
const OUTPUT_TAIL_MAX = 4000;

/** Colony commits as the queue: authors are kept, the committer says who landed it. */
const IDENTITY = {
  GIT_COMMITTER_NAME: 'Colony merge queue',
  GIT_COMMITTER_EMAIL: 'colony@localhost',
  GIT_AUTHOR_NAME: 'Colony merge queue',
  GIT_AUTHOR_EMAIL: 'colony@localhost',
};
const COMMITTER_ONLY = { GIT_COMMITTER_NAME: IDENTITY.GIT_COMMITTER_NAME, GIT_COMMITTER_EMAIL: IDENTITY.GIT_COMMITTER_EMAIL };

/**
 * The integrator's own clone of the base repository (`git clone --shared`: it sees every
 * object of the base without copying), with one working tree to build candidates and one
 * per parallel check. Candidates are built here and handed back as objects, then the target
 * ref moves by compare-and-swap; a working tree of the user's is touched only when it has the
 * target checked out, and then only by git's own clean-tree-only update.
 */
export class ScratchRepo {
  private readonly build: string;

  constructor(
    private readonly baseRepo: string,
    private readonly root: string,
  ) {
    this.build = join(root, 'build');
  }

  private run(args: string[], cwd = this.build, env: NodeJS.ProcessEnv = {}, okCodes?: number[]) {
    // Hooks of the scratch clone are not the user's; none run here. The queue's commits are
    // its own, never signed with the user's key: a signer asking for a passphrase would
    // hang the daemon, and a failing one would refuse every landing.
    return git(['-c', 'core.hooksPath=/dev/null', '-c', 'commit.gpgsign=false', ...args], { cwd, env, okCodes });
  }

  async ensure(): Promise<void> {
    if (existsSync(join(this.build, '.git'))) return;
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    await git(['clone', '--shared', '--no-checkout', '--quiet', this.baseRepo, this.build], { cwd: this.root });
    // The base fetches candidates from here by commit id, without a ref in between.
    await this.run(['config', 'uploadpack.allowAnySHA1InWant', 'true']);
  }

  /** The target's commit in the base, or null when the branch does not exist. */
  async tipOf(target: string): Promise<string | null> {
    const r = await git(['rev-parse', '--verify', '--quiet', `refs/heads/${target}^{commit}`], { cwd: this.baseRepo, okCodes: [1] });
    return r.code === 0 ? r.stdout.trim() : null;
  }

  /** Working trees of the base (the main one or linked ones) that have `target` checked out. */
  async checkedOutAt(target: string): Promise<string[]> {
    const r = await git(['worktree', 'list', '--porcelain'], { cwd: this.baseRepo });
    const out: string[] = [];
    let path = '';
    for (const line of r.stdout.split('\n')) {
      if (line.startsWith('worktree ')) path = line.slice('worktree '.length);
      else if (line === `branch refs/heads/${target}`) out.push(path);
    }
    return out;
  }

  /** Start a candidate on `tip` in the build tree, discarding whatever was there. */
  async startAt(tip: string): Promise<void> {
    await this.ensure();
    await this.run(['reset', '--quiet', '--hard'], this.build, {}, [128]);
    await this.run(['checkout', '--quiet', '--detach', '--force', tip]);
    await this.run(['clean', '-fdq']);
  }

  /**
   * Apply one branch head on top of `onto` (the build tree's HEAD); on a conflict the tree
   * is left at `onto`. Rebase picks the commits of `head` that `onto` lacks.
   */
  async apply(onto: string, head: string, strategy: Strategy, message: string): Promise<ApplyResult> {
    let r;
    if (strategy === 'rebase') {
      r = await this.run(['cherry-pick', '--keep-redundant-commits', '--allow-empty', `${onto}..${head}`], this.build, COMMITTER_ONLY, [1, 128]);
      // Nothing of the branch is missing from the target: it is already there.
      if (r.code === 128 && /empty commit set/.test(r.stderr)) return { ok: true, commit: onto };
    } else if (strategy === 'merge') {
      r = await this.run(['merge', '--quiet', '--no-ff', '--no-edit', '-m', message, head], this.build, IDENTITY, [1, 128]);
    } else {
      r = await this.run(['merge', '--quiet', '--squash', head], this.build, IDENTITY, [1, 128]);
      if (r.code === 0) {
        const staged = await this.run(['diff', '--cached', '--quiet'], this.build, {}, [1]);
        if (staged.code === 0) return { ok: true, commit: onto };
        // The squashed commit keeps the branch head's author and message.
        r = await this.run(['commit', '--quiet', '--no-verify', '-C', head], this.build, COMMITTER_ONLY, [1]);
      }
    }
    if (r.code === 0) return { ok: true, commit: (await this.run(['rev-parse', 'HEAD'])).stdout.trim() };
    const evidence = await this.conflictEvidence(onto, r.stderr || r.stdout);
    await this.run(['cherry-pick', '--abort'], this.build, {}, [128]);
    await this.run(['merge', '--abort'], this.build, {}, [128]);
    await this.run(['reset', '--quiet', '--hard', onto]);
    await this.run(['clean', '-fdq']);
    return { ok: false, evidence };
  }

  private async conflictEvidence(onto: string, message: string): Promise<Evidence> {
    const files = (await this.run(['diff', '--name-only', '--diff-filter=U'])).stdout.split('\n').filter(Boolean);
    const diff = files.length ? (await this.run(['diff', '--', ...files])).stdout : message.trim();
    return { kind: 'conflict', onto, files, hunks: diff.length > HUNKS_MAX ? diff.slice(0, HUNKS_MAX) + '\n…(truncated)' : diff };
  }

  /** Check out `commit` in check tree `slot` and run the check there, in its own process group. */
  async check(slot: number, commit: string, command: string[] | string, timeoutMs: number, signal?: AbortSignal): Promise<CheckResult> {
    const dir = join(this.root, `check-${slot}`);
    if (!existsSync(join(dir, '.git'))) {
      await this.run(['worktree', 'prune']);
      await this.run(['worktree', 'add', '--quiet', '--force', '--detach', dir, commit]);
    } else {
      await this.run(['checkout', '--quiet', '--detach', '--force', commit], dir);
      await this.run(['clean', '-fdq'], dir);
    }
    // A string is the operator's own configuration, run by a shell on purpose; never from input.
    const argv = typeof command === 'string' ? ['sh', '-c', command] : command;
    let tail = '';
    const keep = (line: string): void => {
      tail = (tail + line + '\n').slice(-OUTPUT_TAIL_MAX);
    };
    const p = await runProcess({
      bin: argv[0]!,
      args: argv.slice(1),
      cwd: dir,
      env: { ...process.env, COLONY_LAND_COMMIT: commit },
      timeoutMs,
      killGraceMs: 2000,
      signal,
      onStdoutLine: keep,
      onStderrLine: keep,
    });
    if (p.notFound) tail += `check command '${argv[0]}' not found on PATH\n`;
    const ok = !p.notFound && !p.timedOut && !p.cancelled && p.exitCode === 0;
    return { ok, exit_code: p.exitCode, timed_out: p.timedOut, output_tail: tail };
  }

  /**
   * Move `refs/heads/<target>` from `expected` to `commit` in the base, only if it still
   * points at `expected` (compare-and-swap by `git update-ref`). False when it moved.
   */
  async publish(target: string, commit: string, expected: string): Promise<boolean> {
    if (commit === expected) return true;
    // Objects only (no ref in the base but the target's own); then the compare-and-swap.
    await git(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', this.build, commit], { cwd: this.baseRepo });
    const r = await git(['update-ref', '-m', 'colony: land', `refs/heads/${target}`, commit, expected], { cwd: this.baseRepo, okCodes: [1, 128] });
    return r.code === 0;
  }

  /**
   * The same compare-and-swap for a target that is checked out in a working tree of the base:
   * git's own push-to-checkout (`receive.denyCurrentBranch=updateInstead`) moves the branch
   * and updates that working tree and index in one step, and refuses when the tree has
   * uncommitted changes or untracked files the landed work would overwrite. False when the
   * target moved; throws with git's reason when the working tree refused.
   */
  async publishCheckedOut(target: string, commit: string, expected: string): Promise<boolean> {
    if (commit === expected) return true;
    const r = await this.run(
      [
        'push',
        '--quiet',
        '--no-verify',
        // A fixed command (git runs it with a shell); nothing from input is in it. Hooks of
        // the base do not run, as with update-ref.
        '--receive-pack=git -c receive.denyCurrentBranch=updateInstead -c core.hooksPath=/dev/null receive-pack',
        `--force-with-lease=refs/heads/${target}:${expected}`,
        this.baseRepo,
        `${commit}:refs/heads/${target}`,
      ],
      this.build,
      {},
      [1, 128],
    );
    if (r.code === 0) return true;
    if (/\(stale info\)|\(fetch first\)|\(non-fast-forward\)/.test(r.stderr)) return false;
    // git's detail (e.g. which untracked file would be overwritten) comes as error lines before git's summary.
    const detail = r.stderr
      .split('\n')
      .map((l) => /^(?:remote: )?(?:error|fatal): (.*?)\s*$/.exec(l)?.[1])
      .filter((l): l is string => !!l && !l.startsWith('failed to push'));
    const rejected = /\[remote rejected\][^(]*\(([^)]*)\)/.exec(r.stderr)?.[1];
    const why = [...detail.slice(0, 5), rejected ?? (detail.length ? '' : r.stderr.trim().split('\n').at(-1) ?? 'push refused')].filter(Boolean).join('; ');
    throw new WorkingTreeRefusal(why);
  }

  /** Everything `git status` shows of `worktree`, untracked files included: did anything change? */
  async treeState(worktree: string): Promise<string> {
    return (await git(['status', '--porcelain', '--untracked-files=all'], { cwd: worktree })).stdout;
  }

  /** Uncommitted changes to tracked files in `worktree` (untracked files are not counted). */
  async dirtyFiles(worktree: string): Promise<string[]> {
    const r = await git(['status', '--porcelain', '--untracked-files=no'], { cwd: worktree });
    return r.stdout.split('\n').filter(Boolean).map((l) => l.slice(3));
  }
}
