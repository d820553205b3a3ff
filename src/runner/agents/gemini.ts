import type { AgentEvent, Usage } from '../types.js';
import { join } from 'node:path';
import type { AgentAdapter, AgentFile, OutputParser } from './types.js';
import { EDIT_SHELL_COMMANDS, type PermissionLevel } from './permissions.js';
import { parseJsonLine } from './parse-json.js';

/** Where gemini reads a project's settings; the only settings layer it accepts from any directory. */
export const GEMINI_WORKSPACE_SETTINGS = join('.gemini', 'settings.json');

/**
 * Gemini's policy for `edit`: auto_edit approves file edits; this allows the commands an
 * editing agent needs (gemini's policy engine matches a shell command by its prefix).
 */
function editPolicy(): string {
  const prefixes = EDIT_SHELL_COMMANDS.map((c) => JSON.stringify(c)).join(', ');
  return `# Written by Colony for one job: shell commands an editing agent may run.\n[[rule]]\ntoolName = "run_shell_command"\ncommandPrefix = [${prefixes}]\ndecision = "allow"\npriority = 100\n`;
}

const APPROVAL_MODE: Record<PermissionLevel, string> = { read_only: 'plan', edit: 'auto_edit', full: 'yolo' };

/**
 * `gemini --output-format stream-json …` with the prompt on stdin (gemini runs headless when
 * stdin is not a terminal): `init`, `message` (role, content, `delta` for streamed pieces),
 * `tool_use`, `tool_result` and a final `result` with stats.
 *
 * MCP: gemini skips a system settings file unless it and every parent directory are
 * root-owned and closed to others, so the server goes into the workspace's own
 * `.gemini/settings.json` (the runner keeps it out of git and removes it after the run),
 * which gemini reads in a trusted folder: a job's fresh checkout is trusted for the session.
 */
export const geminiAdapter: AgentAdapter = {
  type: 'gemini',
  invocation(config, req) {
    const args = ['--output-format', 'stream-json', '--approval-mode', APPROVAL_MODE[req.permissions]];
    const files: AgentFile[] = [];
    if (req.permissions === 'edit') {
      const policy = join(req.scratchDir, 'gemini-policy.toml');
      files.push({ path: policy, content: editPolicy() });
      args.push('--policy', policy);
    }
    if (req.model) args.push('--model', req.model);
    if (req.mcp) {
      // trust: headless runs cannot confirm tool calls. timeout: gemini's own default for runs,
      // said explicitly because `gemini mcp list` otherwise gives a server 5 s, less than a cold
      // bridge start on a busy machine.
      const settings = { mcpServers: { colony: { command: req.mcp.command, args: req.mcp.args, trust: true, timeout: 600_000 } } };
      files.push({ path: join(req.workspace, GEMINI_WORKSPACE_SETTINGS), content: JSON.stringify(settings, null, 2) + '\n', mergeJson: true });
    }
    return {
      bin: config.bin ?? 'gemini',
      args: [...args, ...config.args],
      stdin: req.prompt,
      env: { GEMINI_CLI_TRUST_WORKSPACE: 'true' },
      files,
    };
  },
  createParser(): OutputParser {
    const texts: string[] = [];
    let sawResult = false;
    return {
      line(line) {
        const o = parseJsonLine(line);
        if (!o) return [];
        switch (o.type) {
          case 'init':
            return [{ type: 'init', session_id: o.session_id, model: o.model }];
          case 'message':
            if (o.role === 'assistant' && typeof o.content === 'string') {
              texts.push(o.content);
              return [{ type: 'text', text: o.content }];
            }
            return [];
          case 'tool_use':
            return [{ type: 'tool_use', name: String(o.tool_name ?? o.name), input: o.parameters ?? o.input }];
          case 'tool_result':
            return [{ type: 'tool_result', content: o.output ?? o.content, is_error: o.status === 'error' }];
          case 'result': {
            sawResult = true;
            const s = o.stats ?? {};
            const usage: Usage = { input_tokens: s.input_tokens, output_tokens: s.output_tokens, duration_ms: s.duration_ms };
            const ev: AgentEvent = {
              type: 'result',
              text: typeof o.response === 'string' ? o.response : texts.join(''),
              usage,
              is_error: o.status === 'error',
            };
            return [ev];
          }
          default:
            return [];
        }
      },
      end: () => (sawResult ? [] : [{ type: 'result', text: texts.join('') }]),
    };
  },
};
