import type { AgentEvent, Usage } from '../types.js';
import type { AgentAdapter, OutputParser } from './types.js';
import { parseJsonLine } from './parse-json.js';

/**
 * `gemini -p <prompt> --output-format stream-json`: `init`, `message` (role, content,
 * `delta` for streamed pieces), `tool_use`, `tool_result` and a final `result` with stats.
 */
export const geminiAdapter: AgentAdapter = {
  type: 'gemini',
  invocation(config, req) {
    const args = ['-p', req.prompt, '--output-format', 'stream-json'];
    if (req.model) args.push('-m', req.model);
    // The system settings layer, pointed at the job's own file: merges over the user's settings, touches nothing of theirs.
    const env = req.mcp ? { GEMINI_CLI_SYSTEM_SETTINGS_PATH: req.mcp.geminiSettingsFile } : undefined;
    return { bin: config.bin ?? 'gemini', args: [...args, ...config.args], ...(env ? { env } : {}) };
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
