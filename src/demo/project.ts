/**
 * The demo's project: "textkit", a few small JavaScript modules with `node --test` tests.
 * Its tests are the merge queue's check, so every landed change keeps them green.
 */
export const PROJECT_FILES: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'textkit', version: '0.1.0', private: true, type: 'module', scripts: { test: 'node --test' } }, null, 2) + '\n',
  'README.md': '# textkit\n\nSmall text helpers. This repository was made by `colony demo`: a swarm of scripted agents builds it up.\n',
  'src/words.js': `/** The words of a text: runs of letters and digits, in order. */
export function words(text) {
  return text.match(/[\\p{L}\\p{N}]+/gu) ?? [];
}
`,
  'src/index.js': `export { words } from './words.js';
`,
  'test/words.test.js': `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { words } from '../src/words.js';

test('words keeps runs of letters and digits', () => {
  assert.deepEqual(words('Hello, swarm-world 42!'), ['Hello', 'swarm', 'world', '42']);
});
`,
};

/** Where the demo project's changes land. */
export const TARGET_BRANCH = 'main';

/** What a person would tell the agents about the project before they start; stored as a memory they recall. */
export const PROJECT_CONVENTIONS =
  'textkit conventions: one exported function per module in src/<name>.js, built on words() from src/words.js; ' +
  'each module has a node:test file test/<name>.test.js; npm test (node --test) must pass before anything lands.';
