import type { AgentConfig } from '../../daemon/config.js';
import type { AgentEvent } from '../types.js';
import type { PermissionLevel } from './permissions.js';

export interface AgentInvocation {
  /** Binary name or path, looked up on PATH. */
  bin: string;
  /** Arguments, passed as an array: never through a shell. */
  args: string[];
  /** Written to the process's stdin, then stdin is closed. */
  stdin?: string;
  /** Extra environment for this agent (over the job's). */
  env?: Record<string, string>;
  /**
   * Configuration files the CLI reads, by absolute path: in the job's scratch directory, or
   * in the workspace where a CLI reads nothing else (kept out of git, removed after the run).
   */
  files?: AgentFile[];
}

export interface AgentFile {
  path: string;
  content: string;
  /**
   * JSON whose top-level objects are merged one level deep into a file already there
   * (a project's own `.gemini/settings.json`), instead of replacing it.
   */
  mergeJson?: boolean;
}

/** Colony's MCP server as an agent starts it: the stdio bridge command. */
export interface McpServerSpec {
  command: string;
  args: string[];
}

export interface AgentRunRequest {
  prompt: string;
  model?: string | null;
  permissions: PermissionLevel;
  /** The agent's working directory (the job's checkout). */
  workspace: string;
  /** The job's own directory outside the workspace, for configuration files. */
  scratchDir: string;
  /** Colony's MCP server, when the daemon offers it to jobs. */
  mcp?: McpServerSpec;
}

/** Turns a CLI's output lines into common events; stateful per run. */
export interface OutputParser {
  /** One line of stdout, without its newline. */
  line(line: string): AgentEvent[];
  /** Called once at exit; may produce a final `result` from collected text. */
  end(exitCode: number | null): AgentEvent[];
}

/** How to run one kind of agent CLI and read what it prints. */
export interface AgentAdapter {
  type: AgentConfig['type'];
  invocation(config: AgentConfig, req: AgentRunRequest): AgentInvocation;
  createParser(): OutputParser;
}
