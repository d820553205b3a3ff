import type { AgentAdapter, OutputParser } from './types.js';

/** `aider --message <prompt> --yes-always`: plain text; the whole output is the result. */
export const aiderAdapter: AgentAdapter = {
  type: 'aider',
  invocation(config, req) {
    const args = ['--message', req.prompt, '--yes-always'];
    if (req.model) args.push('--model', req.model);
    return { bin: config.bin ?? 'aider', args: [...args, ...config.args] };
  },
  createParser(): OutputParser {
    const lines: string[] = [];
    return {
      line(line) {
        lines.push(line);
        return [{ type: 'text', text: line + '\n' }];
      },
      end: () => [{ type: 'result', text: lines.join('\n').trim() }],
    };
  },
};
