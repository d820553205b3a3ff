import { join } from 'node:path';
import type { AgentAdapter, OutputParser } from './types.js';

/**
 * `aider --message-file <file> --yes-always`: aider reads no prompt from stdin, so the prompt
 * goes in a file in the job's scratch directory, never in argv. `read_only` is aider's
 * `--dry-run` (nothing is written). Plain text; the whole output is the result.
 */
export const aiderAdapter: AgentAdapter = {
  type: 'aider',
  invocation(config, req) {
    const messageFile = join(req.scratchDir, 'aider-message.txt');
    const args = ['--message-file', messageFile, '--yes-always'];
    if (req.permissions === 'read_only') args.push('--dry-run');
    if (req.model) args.push('--model', req.model);
    return { bin: config.bin ?? 'aider', args: [...args, ...config.args], files: [{ path: messageFile, content: req.prompt }] };
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
