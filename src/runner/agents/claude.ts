import type { AgentEvent, Usage } from '../types.js';
import type { AgentAdapter, OutputParser } from './types.js';
import { parseJsonLine } from './parse-json.js';
import { EDIT_SHELL_COMMANDS, type PermissionLevel } from './permissions.js';

function usageFrom(u: Record<string, any> | undefined, extra: Record<string, any>): Usage | undefined {
  if (!u && extra.total_cost_usd === undefined) return undefined;
  const out: Usage = {};
  for (const k of ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'] as const) {
    if (typeof u?.[k] === 'number') out[k] = u[k];
  }
  if (typeof extra.total_cost_usd === 'number') out.total_cost_usd = extra.total_cost_usd;
  if (typeof extra.num_turns === 'number') out.num_turns = extra.num_turns;
  if (typeof extra.duration_ms === 'number') out.duration_ms = extra.duration_ms;
  return out;
}

/** Events of one Claude Code stream-json object (also used by the `command` adapter). */
export function claudeEvents(o: Record<string, any>): AgentEvent[] {
  switch (o.type) {
    case 'system':
      return o.subtype === 'init' ? [{ type: 'init', session_id: o.session_id, model: o.model }] : [];
    case 'assistant': {
      const out: AgentEvent[] = [];
      for (const c of o.message?.content ?? []) {
        if (c?.type === 'text' && typeof c.text === 'string') out.push({ type: 'text', text: c.text });
        else if (c?.type === 'tool_use') out.push({ type: 'tool_use', name: String(c.name), input: c.input });
      }
      return out;
    }
    case 'user': {
      const out: AgentEvent[] = [];
      for (const c of o.message?.content ?? []) {
        if (c?.type === 'tool_result') out.push({ type: 'tool_result', content: c.content, is_error: c.is_error });
      }
      return out;
    }
    case 'result':
      return [
        {
          type: 'result',
          text: typeof o.result === 'string' ? o.result : '',
          usage: usageFrom(o.usage, o),
          cost_usd: typeof o.total_cost_usd === 'number' ? o.total_cost_usd : undefined,
          is_error: o.is_error === true || (typeof o.subtype === 'string' && o.subtype.startsWith('error')),
        },
      ];
    default:
      return [];
  }
}

/** Final text from collected assistant text when a CLI never printed a result. */
export function fallbackResult(texts: string[], sawResult: boolean): AgentEvent[] {
  return sawResult ? [] : [{ type: 'result', text: texts.join('') }];
}

/** Claude Code's flags per level: its permission modes, plus the commands an editing agent may run. */
function claudePermissionArgs(level: PermissionLevel): string[] {
  switch (level) {
    case 'read_only':
      // dontAsk refuses every tool that would need approval: reading and searching need none.
      return ['--permission-mode', 'dontAsk'];
    case 'edit':
      // acceptEdits approves edits inside the working directory only; commands by name. The
      // list is one argument (comma-separated) so the variadic flag takes nothing after it.
      return ['--permission-mode', 'acceptEdits', '--allowedTools', EDIT_SHELL_COMMANDS.map((c) => `Bash(${c}:*)`).join(',')];
    case 'full':
      return ['--dangerously-skip-permissions'];
  }
}

/**
 * `claude -p --output-format stream-json --verbose …` with the prompt on stdin: in argv a
 * prompt starting with `-` would read as an option, and one over 128 KiB fails to spawn.
 * MCP: `--mcp-config` with the server as inline JSON (the flag takes files or JSON strings).
 */
export const claudeAdapter: AgentAdapter = {
  type: 'claude',
  invocation(config, req) {
    const args = ['-p', '--output-format', 'stream-json', '--verbose', ...claudePermissionArgs(req.permissions)];
    if (req.model) args.push('--model', req.model);
    if (req.mcp) args.push('--mcp-config', JSON.stringify({ mcpServers: { colony: { command: req.mcp.command, args: req.mcp.args } } }));
    // Claude refuses to skip permissions as root unless told the machine is a sandbox, which is what `full` declares.
    const env = req.permissions === 'full' ? { IS_SANDBOX: '1' } : undefined;
    return { bin: config.bin ?? 'claude', args: [...args, ...config.args], stdin: req.prompt, ...(env ? { env } : {}) };
  },
  createParser(): OutputParser {
    const texts: string[] = [];
    let sawResult = false;
    return {
      line(line) {
        const o = parseJsonLine(line);
        if (!o) return [];
        const evs = claudeEvents(o);
        for (const e of evs) {
          if (e.type === 'text') texts.push(e.text);
          if (e.type === 'result') sawResult = true;
        }
        return evs;
      },
      end: () => fallbackResult(texts, sawResult),
    };
  },
};
