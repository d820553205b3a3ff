import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';
import { git } from './git.js';
import type { AgentFile } from './agents/types.js';

/** What placing one file changed, so it can be undone. */
interface Placed {
  path: string;
  written: string;
  /** The file's content before, when there was one. */
  original?: string;
  /** Relative path of a tracked file marked skip-worktree while the agent runs. */
  skipWorktree?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Top-level objects merged one level deep (ours wins per key); anything else replaced by ours. */
function mergeJson(existing: string, ours: string): string {
  let base: unknown;
  try {
    base = JSON.parse(existing);
  } catch {
    return ours; // a file the CLI could not read either; ours at least works
  }
  const add = JSON.parse(ours) as Record<string, unknown>;
  if (!isObject(base)) return ours;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(add)) out[k] = isObject(v) && isObject(base[k]) ? { ...(base[k] as object), ...v } : v;
  return JSON.stringify(out, null, 2) + '\n';
}

/**
 * Writes an agent's configuration files. Those inside the workspace are kept out of the
 * job's branch: a new file is listed in the workspace's own `.git/info/exclude` (never a
 * tracked `.gitignore`), a tracked one is marked skip-worktree, so neither the agent's own
 * `git add -A` nor the runner's leftover commit picks them up. `restore` puts things back.
 */
export async function placeAgentFiles(files: AgentFile[], workspace: string): Promise<{ restore(): Promise<void> }> {
  const placed: Placed[] = [];
  for (const f of files) {
    const original = existsSync(f.path) ? readFileSync(f.path, 'utf8') : undefined;
    const written = f.mergeJson && original !== undefined ? mergeJson(original, f.content) : f.content;
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, written, { mode: 0o600 });
    const p: Placed = { path: f.path, written, original };
    const rel = relative(workspace, f.path);
    if (rel && !rel.startsWith('..') && !rel.startsWith(sep)) {
      const relGit = rel.split(sep).join('/');
      const tracked = (await git(['ls-files', '--error-unmatch', '--', relGit], { cwd: workspace, okCodes: [1] })).code === 0;
      if (tracked) {
        await git(['update-index', '--skip-worktree', '--', relGit], { cwd: workspace });
        p.skipWorktree = relGit;
      } else {
        const exclude = (await git(['rev-parse', '--git-path', 'info/exclude'], { cwd: workspace })).stdout.trim();
        const excludePath = exclude.startsWith('/') ? exclude : `${workspace}/${exclude}`;
        mkdirSync(dirname(excludePath), { recursive: true });
        appendFileSync(excludePath, `/${relGit}\n`);
      }
    }
    placed.push(p);
  }
  return {
    async restore() {
      for (const p of placed.reverse()) {
        // A file the agent rewrote is its work: leave it.
        const now = existsSync(p.path) ? readFileSync(p.path, 'utf8') : undefined;
        if (now === p.written) {
          if (p.original === undefined) rmSync(p.path, { force: true });
          else writeFileSync(p.path, p.original);
        }
        if (p.skipWorktree) await git(['update-index', '--no-skip-worktree', '--', p.skipWorktree], { cwd: workspace });
      }
    },
  };
}
