import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/daemon.js';
import { parseTasksFile, PLANNER_TEMPLATE, WORKER_TEMPLATE, plannerPrompt, workerPrompt } from '../../src/swarm/index.js';

describe('tasks files', () => {
  it('reads YAML with tasks:, a top-level list, and JSON', () => {
    const yaml = parseTasksFile('tasks:\n  - id: a\n    description: first\n    reserve: [src/a.ts]\n  - description: second\n    depends_on: [a]\n    priority: 3\n');
    expect(yaml).toEqual([
      { id: 'a', description: 'first', reserve: ['src/a.ts'] },
      { description: 'second', depends_on: ['a'], priority: 3 },
    ]);
    expect(parseTasksFile('- description: only\n')).toEqual([{ description: 'only' }]);
    expect(parseTasksFile(JSON.stringify({ tasks: [{ id: 'x', description: 'y' }] }))).toEqual([{ id: 'x', description: 'y' }]);
  });

  it('refuses, naming the file and the field: unknown keys, a missing description, cycles, bad YAML, an empty list', () => {
    expect(() => parseTasksFile('tasks:\n  - description: a\n    owner: me\n', 't.yaml')).toThrow(/t\.yaml: .*owner/);
    expect(() => parseTasksFile('tasks:\n  - id: a\n', 't.yaml')).toThrow(/t\.yaml: tasks\.0\.description/);
    expect(() => parseTasksFile('- {id: a, description: a, depends_on: [b]}\n- {id: b, description: b, depends_on: [a]}\n')).toThrow(/cycle \((a → b → a|b → a → b)\)/);
    expect(() => parseTasksFile('tasks: [\n', 't.yaml')).toThrow(/t\.yaml: not valid YAML or JSON/);
    expect(() => parseTasksFile('tasks: []\n')).toThrow(/tasks/);
    expect(() => parseTasksFile('- {description: a, priority: 1.5}\n')).toThrow(/priority/);
  });
});

describe('prompts', () => {
  it('fill the documented templates, which the README shows as they are', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(PLANNER_TEMPLATE);
    expect(readme).toContain(WORKER_TEMPLATE);
    const p = plannerPrompt('make it fast', 'swarm_1', 4);
    expect(p).toContain('make it fast');
    expect(p).toContain('run_id "swarm_1"');
    expect(p).toContain('4 agents');
    expect(p).not.toMatch(/\{\{\w+\}\}/);
    const w = workerPrompt({ task_id: 'task_1', description: 'do it', reserve: ['src/a.ts', 'src/b.ts'] });
    expect(w).toContain('Your task (task_1):\ndo it');
    expect(w).toContain('src/a.ts, src/b.ts');
    expect(w).toContain('merge queue');
    expect(w).not.toContain('earlier attempt');
    expect(workerPrompt({ task_id: 't', description: 'd', reserve: [] }, 'job x failed: exit 1')).toContain('An earlier attempt at this task did not land: job x failed: exit 1');
  });
});
