import type { AgentConfig } from '../../daemon/config.js';
import type { AgentAdapter } from './types.js';
import { claudeAdapter } from './claude.js';
import { codexAdapter } from './codex.js';
import { geminiAdapter } from './gemini.js';
import { aiderAdapter } from './aider.js';
import { commandAdapter } from './command.js';

export type { AgentAdapter, AgentInvocation, AgentRunRequest, OutputParser } from './types.js';

const ADAPTERS: Record<AgentConfig['type'], AgentAdapter> = {
  claude: claudeAdapter,
  codex: codexAdapter,
  gemini: geminiAdapter,
  aider: aiderAdapter,
  command: commandAdapter,
};

export function adapterFor(type: AgentConfig['type']): AgentAdapter {
  return ADAPTERS[type];
}
