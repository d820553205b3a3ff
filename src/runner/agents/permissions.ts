/**
 * How much an agent may do, from least to most. Each adapter maps a level to its CLI's own
 * flags; see the README's agent table.
 *  - read_only: read and search the workspace; no edits, no commands that change anything.
 *  - edit (default): edit files in the workspace and run the shell commands a coding agent
 *    needs (build, test, git); nothing outside the workspace.
 *  - full: no checks at all; for machines sandboxed from the outside only.
 */
export const PERMISSION_LEVELS = ['read_only', 'edit', 'full'] as const;
export type PermissionLevel = (typeof PERMISSION_LEVELS)[number];

export const DEFAULT_PERMISSIONS: PermissionLevel = 'edit';

/** Whether `wanted` is no more than `allowed`. */
export function permitsLevel(allowed: PermissionLevel, wanted: PermissionLevel): boolean {
  return PERMISSION_LEVELS.indexOf(wanted) <= PERMISSION_LEVELS.indexOf(allowed);
}

/**
 * Commands an `edit` agent may run without asking, for the CLIs that allow commands by name
 * (Claude Code, Gemini CLI; Codex confines every command to the workspace by its sandbox
 * instead): version control, package managers and build/test runners, and read-only tools.
 */
export const EDIT_SHELL_COMMANDS = [
  'git', 'npm', 'npx', 'node', 'pnpm', 'yarn', 'bun', 'deno', 'tsc', 'vitest', 'jest',
  'make', 'cmake', 'python', 'python3', 'pytest', 'go', 'cargo', 'mvn', 'gradle',
  'ls', 'cat', 'head', 'tail', 'wc', 'grep', 'rg', 'diff', 'sort', 'echo', 'pwd', 'mkdir', 'touch',
] as const;
