/**
 * The demo swarm's tasks and what the scripted agent does for each. A task's description
 * names its step (`(demo step: <key>)`); the agent looks the step up here, so the package
 * ships both halves together.
 */
export interface DemoStep {
  key: string;
  description: string;
  depends_on: string[];
  /** Files the task will touch, given to the swarm as the job's reservations. */
  reserve: string[];
  priority: number;
  /** What the agent asks memory before editing. */
  recall: string;
  /** Files the agent writes whole. */
  writes: Record<string, string>;
  /** Lines the agent appends to a file unless already there (a registry every module joins). */
  appends?: Record<string, string>;
  /**
   * Another step started at the same time that edits the same lines: the agent waits (briefly)
   * until that one is running too, so both start from the same tip and exactly one conflicts.
   */
  rendezvous?: string;
  /**
   * Commit only after the rendezvous partner committed, so (almost always) the partner lands
   * first and this step is the one that conflicts: its follow-up then runs beside the
   * partner's dependants instead of holding them up.
   */
  yields?: boolean;
  /** What the agent stores in memory once done. */
  learned: string;
}

const test = (imports: string, body: string): string => `import { test } from 'node:test';
import assert from 'node:assert/strict';
${imports}

${body}`;

export const DEMO_STEPS: DemoStep[] = [
  {
    key: 'slugify',
    description: 'Add slugify(text): lower-case words joined by "-", exported from src/index.js',
    depends_on: [],
    reserve: ['src/slugify.js', 'test/slugify.test.js'],
    priority: 10,
    recall: 'textkit words module conventions',
    writes: {
      'src/slugify.js': `import { words } from './words.js';

/** A URL-safe slug: the lower-cased words, joined by '-'. */
export function slugify(text) {
  return words(text).map((w) => w.toLowerCase()).join('-');
}
`,
      'test/slugify.test.js': test(
        "import { slugify } from '../src/slugify.js';",
        `test('slugify lower-cases words and joins them with -', () => {
  assert.equal(slugify('Hello, Swarm World!'), 'hello-swarm-world');
});
`,
      ),
    },
    appends: { 'src/index.js': "export { slugify } from './slugify.js';" },
    rendezvous: 'title-case',
    yields: true,
    learned: "textkit: slugify(text) in src/slugify.js lower-cases words() and joins them with '-'; it is exported from src/index.js.",
  },
  {
    key: 'title-case',
    description: 'Add titleCase(text): every word capitalised, exported from src/index.js',
    depends_on: [],
    reserve: ['src/title-case.js', 'test/title-case.test.js'],
    priority: 10,
    recall: 'textkit words module conventions',
    writes: {
      'src/title-case.js': `import { words } from './words.js';

/** Every word capitalised, joined by single spaces. */
export function titleCase(text) {
  return words(text)
    .map((w) => w[0].toUpperCase() + w.slice(1).toLowerCase())
    .join(' ');
}
`,
      'test/title-case.test.js': test(
        "import { titleCase } from '../src/title-case.js';",
        `test('titleCase capitalises every word', () => {
  assert.equal(titleCase('the swarm of AGENTS'), 'The Swarm Of Agents');
});
`,
      ),
    },
    appends: { 'src/index.js': "export { titleCase } from './title-case.js';" },
    rendezvous: 'slugify',
    learned: 'textkit: titleCase(text) in src/title-case.js capitalises each of words() and joins them with spaces; exported from src/index.js.',
  },
  {
    key: 'truncate',
    description: 'Add truncate(text, max): cut to max characters, ending with an ellipsis',
    depends_on: [],
    reserve: ['src/truncate.js', 'test/truncate.test.js'],
    priority: 5,
    recall: 'textkit module conventions tests',
    writes: {
      'src/truncate.js': `/** At most \`max\` characters; a cut text ends with '…'. */
export function truncate(text, max) {
  return text.length <= max ? text : text.slice(0, Math.max(0, max - 1)).trimEnd() + '…';
}
`,
      'test/truncate.test.js': test(
        "import { truncate } from '../src/truncate.js';",
        `test('truncate keeps short texts and cuts long ones with an ellipsis', () => {
  assert.equal(truncate('short', 10), 'short');
  assert.equal(truncate('a swarm of agents', 8), 'a swarm…');
});
`,
      ),
    },
    learned: "textkit: truncate(text, max) in src/truncate.js returns at most max characters, ending with '…' when it cuts.",
  },
  {
    key: 'slug-separator',
    description: 'Give slugify a { separator } option (default "-")',
    depends_on: ['slugify'],
    reserve: ['src/slugify.js', 'test/slugify.test.js'],
    priority: 0,
    recall: 'slugify words joined',
    writes: {
      'src/slugify.js': `import { words } from './words.js';

/** A URL-safe slug: the lower-cased words, joined by \`separator\` ('-' by default). */
export function slugify(text, { separator = '-' } = {}) {
  return words(text).map((w) => w.toLowerCase()).join(separator);
}
`,
      'test/slugify.test.js': test(
        "import { slugify } from '../src/slugify.js';",
        `test('slugify lower-cases words and joins them with -', () => {
  assert.equal(slugify('Hello, Swarm World!'), 'hello-swarm-world');
});

test('slugify takes another separator', () => {
  assert.equal(slugify('Hello Swarm', { separator: '_' }), 'hello_swarm');
});
`,
      ),
    },
    learned: "textkit: slugify(text, { separator }) joins with '-' unless told otherwise.",
  },
  {
    key: 'headline',
    description: 'Add headline(text, max): a title-cased, truncated headline',
    depends_on: ['title-case', 'truncate'],
    reserve: ['src/headline.js', 'test/headline.test.js'],
    priority: 0,
    recall: 'titleCase truncate',
    writes: {
      'src/headline.js': `import { titleCase } from './title-case.js';
import { truncate } from './truncate.js';

/** A headline: the text title-cased, then cut to \`max\` characters (60 by default). */
export function headline(text, max = 60) {
  return truncate(titleCase(text), max);
}
`,
      'test/headline.test.js': test(
        "import { headline } from '../src/headline.js';",
        `test('headline title-cases and truncates', () => {
  assert.equal(headline('colony lands every change', 14), 'Colony Lands…');
});
`,
      ),
    },
    learned: 'textkit: headline(text, max = 60) in src/headline.js is truncate(titleCase(text), max).',
  },
  {
    key: 'exports',
    description: 'Export truncate and headline from src/index.js, with a test of the public surface',
    depends_on: ['slugify', 'headline'],
    reserve: ['src/index.js', 'test/index.test.js'],
    priority: 0,
    recall: 'exported from src/index.js',
    writes: {
      'test/index.test.js': test(
        "import * as textkit from '../src/index.js';",
        `test('textkit exports every helper', () => {
  assert.deepEqual(Object.keys(textkit).sort(), ['headline', 'slugify', 'titleCase', 'truncate', 'words']);
});
`,
      ),
    },
    appends: { 'src/index.js': "export { truncate } from './truncate.js';\nexport { headline } from './headline.js';" },
    learned: 'textkit: src/index.js exports words, slugify, titleCase, truncate and headline; test/index.test.js pins that list.',
  },
  {
    key: 'docs',
    description: "Document textkit's API in README.md",
    depends_on: ['slugify', 'headline'],
    reserve: ['README.md'],
    priority: 0,
    recall: 'textkit slugify titleCase truncate headline',
    writes: {
      'README.md': `# textkit

Small text helpers. This repository was made by \`colony demo\`: a swarm of scripted agents built it up.

\`\`\`js
import { words, slugify, titleCase, truncate, headline } from './src/index.js';
words('Hello, swarm-world 42!');         // ['Hello', 'swarm', 'world', '42']
slugify('Hello, Swarm World!');          // 'hello-swarm-world'
titleCase('the swarm of AGENTS');         // 'The Swarm Of Agents'
truncate('a swarm of agents', 8);         // 'a swarm…'
headline('colony lands every change', 14); // 'Colony Lands…'
\`\`\`

\`npm test\` runs the tests (\`node --test\`).
`,
    },
    learned: "textkit: README.md documents the whole API with one example per helper.",
  },
];

/** How a task's description names its step (the agent finds it in its prompt). */
export const stepMarker = (key: string): string => `(demo step: ${key})`;

export function stepInPrompt(prompt: string): DemoStep | undefined {
  const key = /\(demo step: ([a-z-]+)\)/.exec(prompt)?.[1];
  return DEMO_STEPS.find((s) => s.key === key);
}

/** The swarm's tasks list (the contract's TaskSpec). */
export function demoTasks(): { id: string; description: string; depends_on: string[]; reserve: string[]; priority: number }[] {
  return DEMO_STEPS.map((s) => ({ id: s.key, description: `${s.description} ${stepMarker(s.key)}`, depends_on: s.depends_on, reserve: s.reserve, priority: s.priority }));
}
