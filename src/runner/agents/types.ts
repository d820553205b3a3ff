import type { AgentConfig } from '../../daemon/config.js';
import type { AgentEvent } from '../types.js';

export interface AgentInvocation {
  /** Binary name or path, looked up on PATH. */
  bin: string;
  /** Arguments, passed as an array: never through a shell. */
  args: string[];
  /** Written to the process's stdin, then stdin is closed. */
  stdin?: string;
  /** Extra environment for this agent (over the job's). */
  env?: Record<string, string>;
}

/**
 * Colony's MCP server as an agent starts it: the stdio bridge command, and the same written
 * as files in the formats the CLIs read, in the job's scratch directory (never the workspace).
 */
export interface McpServerSpec {
  command: string;
  args: string[];
  /** `{mcpServers: {colony: {command, args}}}`, for `claude --mcp-config`. */
  configFile: string;
  /** Gemini CLI settings naming the same server, trusted (headless runs cannot confirm tool calls). */
  geminiSettingsFile: string;
}

export interface AgentRunRequest {
  prompt: string;
  model?: string | null;
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
