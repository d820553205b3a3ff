import type { AgentEvent, Usage } from '../types.js';
import type { AgentAdapter, OutputParser } from './types.js';
import { parseJsonLine } from './parse-json.js';

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

/** `claude -p <prompt> --output-format stream-json --verbose` */
export const claudeAdapter: AgentAdapter = {
  type: 'claude',
  invocation(config, req) {
    const args = ['-p', req.prompt, '--output-format', 'stream-json', '--verbose'];
    if (req.model) args.push('--model', req.model);
    if (req.mcp) args.push('--mcp-config', req.mcp.configFile);
    return { bin: config.bin ?? 'claude', args: [...args, ...config.args] };
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
