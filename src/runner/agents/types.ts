import type { AgentConfig } from '../../daemon/config.js';
import type { AgentEvent } from '../types.js';

export interface AgentInvocation {
  /** Binary name or path, looked up on PATH. */
  bin: string;
  /** Arguments, passed as an array: never through a shell. */
  args: string[];
  /** Written to the process's stdin, then stdin is closed. */
  stdin?: string;
}

export interface AgentRunRequest {
  prompt: string;
  model?: string | null;
  /** Absolute path of a JSON file configuring Colony's MCP server for this agent, when available. */
  mcpConfigPath?: string;
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
