import type { AgentEvent, Usage } from '../types.js';
import type { AgentAdapter, OutputParser } from './types.js';
import { parseJsonLine } from './parse-json.js';
import type { PermissionLevel } from './permissions.js';

/** Codex's sandbox per level: it confines every command the model runs, edits included. */
function codexPermissionArgs(level: PermissionLevel): string[] {
  switch (level) {
    case 'read_only':
      return ['--sandbox', 'read-only'];
    case 'edit':
      // Writes in the working directory (and temp dirs) only; no network.
      return ['--sandbox', 'workspace-write'];
    case 'full':
      return ['--dangerously-bypass-approvals-and-sandbox'];
  }
}

/**
 * `codex exec --json … -`: the prompt on stdin (`-`), never in argv. JSONL events. Current
 * CLIs print `{type: "item.completed", item: {type: "agent_message", text}}` and
 * `{type: "turn.completed", usage}`; older ones `{msg: {type: "agent_message", message}}`.
 */
export const codexAdapter: AgentAdapter = {
  type: 'codex',
  invocation(config, req) {
    const args = ['exec', '--json', ...codexPermissionArgs(req.permissions)];
    if (req.model) args.push('--model', req.model);
    // codex has no config-file flag; per-run `-c` overrides take TOML values (JSON strings and arrays are valid TOML).
    if (req.mcp) args.push('-c', `mcp_servers.colony.command=${JSON.stringify(req.mcp.command)}`, '-c', `mcp_servers.colony.args=${JSON.stringify(req.mcp.args)}`);
    return { bin: config.bin ?? 'codex', args: [...args, ...config.args, '-'], stdin: req.prompt };
  },
  createParser(): OutputParser {
    let last = '';
    let usage: Usage | undefined;
    return {
      line(line) {
        const o = parseJsonLine(line);
        if (!o) return [];
        const out: AgentEvent[] = [];
        if (o.type === 'thread.started') out.push({ type: 'init', session_id: o.thread_id });
        const item = o.item;
        if (o.type === 'item.completed' && item) {
          if (item.type === 'agent_message' && typeof item.text === 'string') {
            last = item.text;
            out.push({ type: 'text', text: item.text });
          } else if (item.type === 'command_execution' || item.type === 'mcp_tool_call' || item.type === 'file_change') {
            out.push({ type: 'tool_use', name: String(item.type === 'mcp_tool_call' ? item.tool : item.type), input: item.command ?? item.arguments ?? item.changes });
          }
        }
        if (o.type === 'turn.completed' && o.usage) {
          usage = {
            input_tokens: o.usage.input_tokens,
            output_tokens: o.usage.output_tokens,
            cache_read_input_tokens: o.usage.cached_input_tokens,
          };
        }
        const msg = o.msg;
        if (msg?.type === 'agent_message' && typeof msg.message === 'string') {
          last = msg.message;
          out.push({ type: 'text', text: msg.message });
        }
        if (msg?.type === 'token_count' && msg.info?.total_token_usage) {
          const t = msg.info.total_token_usage;
          usage = { input_tokens: t.input_tokens, output_tokens: t.output_tokens, cache_read_input_tokens: t.cached_input_tokens };
        }
        return out;
      },
      end: () => [{ type: 'result', text: last, usage }],
    };
  },
};
