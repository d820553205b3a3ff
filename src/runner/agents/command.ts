import { ColonyError } from '../../lib/errors.js';
import type { AgentAdapter, OutputParser } from './types.js';
import { parseJsonLine } from './parse-json.js';
import { claudeEvents } from './claude.js';

/**
 * Any command, from an argv template: `{prompt}` and `{model}` are substituted inside
 * elements (never through a shell); without `{prompt}` the prompt goes on stdin. Output
 * in Claude's stream-json is understood; anything else is plain text.
 */
export const commandAdapter: AgentAdapter = {
  type: 'command',
  invocation(config, req) {
    if (!config.argv?.length) throw new ColonyError('bad_config', "a 'command' agent needs an argv template");
    const usesPrompt = config.argv.some((a) => a.includes('{prompt}'));
    const argv = config.argv.map((a) => a.replaceAll('{prompt}', req.prompt).replaceAll('{model}', req.model ?? ''));
    return { bin: config.bin ?? argv[0]!, args: [...(config.bin ? argv : argv.slice(1)), ...config.args], stdin: usesPrompt ? undefined : req.prompt };
  },
  createParser(): OutputParser {
    const texts: string[] = [];
    let result: string | undefined;
    return {
      line(line) {
        const o = parseJsonLine(line);
        const evs = o ? claudeEvents(o) : [];
        if (evs.length) {
          for (const e of evs) if (e.type === 'result') result = e.text;
          return evs;
        }
        texts.push(line);
        return [{ type: 'text', text: line + '\n' }];
      },
      end: () => (result === undefined ? [{ type: 'result', text: texts.join('\n').trim() }] : []),
    };
  },
};
