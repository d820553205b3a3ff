import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

/**
 * The memory quality bench's corpus: labelled (memory, question) pairs, each in the
 * development or the held-out split; hand-written near-misses (memories that share words with
 * some question but answer something else); and generated distractors, templated from
 * software-engineering vocabulary with a seeded generator so every run sees the same corpus.
 */

const dataFile = (name: string): string => fileURLToPath(new URL(`../../bench/data/${name}`, import.meta.url));

export interface Pair {
  memory: string;
  question: string;
  split: 'dev' | 'held-out';
  /** Other phrasings an agent might send with the question (development split only). */
  alternatives?: string[];
  /** At most one content word (stemmed, stop words out) shared with its memory. */
  hard: boolean;
}

export interface Corpus {
  pairs: Pair[];
  nearMisses: string[];
  distractors: string[];
}

// The bench's own notion of a content word, independent of Colony's code: wink-nlp-utils'
// tokenizer, stop words and Porter2 stemmer.
const require = createRequire(import.meta.url);
const nlp = require('wink-nlp-utils') as {
  string: { tokenize0(s: string): string[]; stem(s: string): string; lowerCase(s: string): string };
  tokens: { removeWords(t: string[]): string[] };
};
const contentStems = (text: string): Set<string> =>
  new Set(nlp.tokens.removeWords(nlp.string.tokenize0(nlp.string.lowerCase(text))).map((w) => nlp.string.stem(w)).filter((w) => w.length > 1));

export function sharedContentWords(a: string, b: string): number {
  const sa = contentStems(a);
  let n = 0;
  for (const w of contentStems(b)) if (sa.has(w)) n++;
  return n;
}

export function loadCorpus(distractorCount = 1900): Corpus {
  const pairs = readFileSync(dataFile('memory-qa.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const p = JSON.parse(l) as Omit<Pair, 'hard'>;
      return { ...p, hard: sharedContentWords(p.memory, p.question) <= 1 };
    });
  const nearMisses = readFileSync(dataFile('memory-near-misses.txt'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  return { pairs, nearMisses, distractors: generateDistractors(distractorCount, 0xc01047) };
}

/** mulberry32: a small seeded generator, so the corpus is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const V = {
  service: ['billing', 'search', 'notification', 'inventory', 'shipping', 'auth', 'reporting', 'ledger', 'catalog', 'pricing', 'media', 'export', 'import', 'audit', 'scheduler', 'gateway', 'webhook', 'profile', 'session', 'checkout', 'loyalty', 'tax', 'fraud', 'recommendation', 'analytics', 'chat', 'document', 'invoice', 'payout', 'subscription'],
  dir: ['src/lib', 'src/api', 'src/services', 'packages/core', 'packages/ui', 'apps/web', 'apps/admin', 'internal/db', 'cmd/worker', 'scripts', 'tools/ci', 'infra/modules', 'lib/utils', 'src/jobs', 'src/adapters', 'config', 'deploy/k8s', 'test/helpers', 'src/domain', 'pkg/http'],
  file: ['retry', 'queue', 'cache', 'client', 'router', 'config', 'schema', 'mapper', 'validator', 'serializer', 'logger', 'metrics', 'handler', 'store', 'worker', 'poller', 'limiter', 'parser', 'formatter', 'registry', 'loader', 'pool', 'session', 'token', 'upload'],
  ext: ['ts', 'ts', 'tsx', 'go', 'py', 'rs', 'js', 'yaml'],
  tool: ['Terraform', 'Helm', 'Bazel', 'Gradle', 'Maven', 'Vite', 'esbuild', 'Rollup', 'Turborepo', 'Lerna', 'Poetry', 'Cargo', 'Make', 'Ansible', 'Pulumi', 'Flyway', 'Liquibase', 'Knex', 'Prisma', 'TypeORM', 'Sequelize', 'Alembic', 'Storybook', 'Cypress', 'Mocha', 'pytest', 'JUnit', 'Karma', 'Webpack', 'Babel'],
  tech: ['Postgres', 'MySQL', 'MongoDB', 'DynamoDB', 'Cassandra', 'RabbitMQ', 'NATS', 'Kafka', 'Redis', 'Memcached', 'ClickHouse', 'Snowflake', 'S3', 'GCS', 'Elasticsearch', 'OpenSearch', 'Meilisearch', 'Consul', 'etcd', 'ZooKeeper', 'Nomad', 'Envoy', 'Traefik', 'HAProxy', 'Varnish'],
  person: ['Amara', 'Bruno', 'Chen', 'Dana', 'Elif', 'Femi', 'Greta', 'Hiro', 'Ines', 'Jonas', 'Kofi', 'Lucia', 'Marek', 'Noor', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tariq', 'Uma', 'Viktor', 'Wei', 'Ximena', 'Yusuf', 'Zara'],
  thing: ['the retry policy', 'the cache TTL', 'the batch size', 'the connection pool', 'the schema version', 'the API contract', 'the index mapping', 'the alert thresholds', 'the rollout plan', 'the queue partitioning', 'the logging format', 'the error codes', 'the field names', 'the rate limits', 'the timeout values', 'the sort order', 'the default locale', 'the key rotation', 'the sharding key', 'the backup schedule'],
  period: ['minute', '5 minutes', '15 minutes', 'hour', '6 hours', 'night', 'day', 'week', 'Monday', 'month', 'quarter'],
  envVar: ['FEATURE_X_ENABLED', 'MAX_BATCH', 'HTTP_TIMEOUT_MS', 'CACHE_DIR', 'WORKERS', 'TRACE_SAMPLE_RATE', 'DISABLE_TELEMETRY', 'DB_POOL_MAX', 'QUEUE_PREFETCH', 'ENABLE_PROFILER', 'STRICT_MODE', 'USE_MOCK_SMTP', 'PORT', 'REGION', 'READ_ONLY'],
  effect: ['turn on verbose tracing', 'skip the warm-up step', 'use the in-memory queue', 'shorten the retry delay', 'print timing for each step', 'run against the sandbox account', 'avoid sending real emails', 'enable the heap profiler', 'force the slow path', 'keep temporary files', 'fail fast on the first error', 'emit metrics to stdout'],
  condition: ['the machine is under load', 'two workers start at once', 'the cache is cold', 'the network is slow', 'it runs after the migration suite', 'the locale is not English', 'the disk is almost full', 'tests run in parallel', 'the container restarts', 'the clock is mocked', 'the fixture file is missing', 'DNS lookups are slow'],
  reason: ['it was cheaper to run', 'the old one was unmaintained', 'it supports streaming', 'the team already knew it', 'it halves memory use', 'it has better typing', 'it works offline', 'the vendor raised prices', 'it scales horizontally', 'it passed the security review', 'startup time dropped by half', 'it needs no extra server'],
  number: ['2', '3', '5', '8', '10', '20', '30', '50', '64', '100', '128', '250', '500', '1000'],
  unit: ['seconds', 'milliseconds', 'minutes', 'requests', 'rows', 'megabytes', 'connections', 'retries', 'items', 'days'],
  action: ['rename', 'delete', 'move', 'rewrite', 'split', 'inline', 'deprecate', 'cache', 'parallelise', 'batch'],
  team: ['platform', 'growth', 'payments', 'data', 'mobile', 'web', 'infra', 'security', 'search', 'support tooling'],
  symptom: ['a 500 error', 'a timeout', 'a deadlock', 'duplicate rows', 'a memory spike', 'stale reads', 'a crash loop', 'high CPU', 'an empty response', 'a stuck consumer', 'a permission error', 'slow startup'],
  cause: ['a missing index', 'an expired certificate', 'a leaked file handle', 'an unbounded query', 'a race on startup', 'a wrong default', 'a stale lockfile', 'clock skew', 'a retry loop', 'a full disk', 'an unclosed transaction', 'a DNS cache'],
};

type Pick = <K extends keyof typeof V>(k: K) => string;

const TEMPLATES: ((p: Pick, r: () => number) => string)[] = [
  (p) => `The ${p('service')} service retries ${p('thing').replace('the ', '')} changes every ${p('period')}.`,
  (p) => `${p('person')} owns the ${p('service')} ${p('file')}; check with them before changing ${p('thing')}.`,
  (p) => `${p('dir')}/${p('file')}.${p('ext')} is flaky when ${p('condition')}.`,
  (p) => `Set ${p('envVar')}=1 to ${p('effect')} in the ${p('service')} service.`,
  (p) => `Use ${p('tool')}, not ${p('tool')}, for the ${p('service')} module; the config is in ${p('dir')}.`,
  (p) => `The ${p('service')} ${p('file')} times out after ${p('number')} ${p('unit')} because ${p('reason')}.`,
  (p) => `${p('dir')}/${p('file')}.${p('ext')} holds the ${p('service')} ${p('file')} logic.`,
  (p) => `Decision: the ${p('service')} service moved from ${p('tech')} to ${p('tech')} because ${p('reason')}.`,
  (p) => `${p('symptom')} in the ${p('service')} service last week was caused by ${p('cause')}.`.replace(/^./, (c) => c.toUpperCase()),
  (p) => `The ${p('team')} team reviews every change to ${p('thing')} in ${p('dir')}.`.replace(/^./, (c) => c.toUpperCase()),
  (p) => `Never ${p('action')} the ${p('file')} in ${p('dir')} without running the ${p('service')} contract tests.`,
  (p) => `The ${p('service')} worker processes at most ${p('number')} ${p('unit')} per batch.`,
  (p) => `${p('person')} is on call for ${p('service')} this ${p('period') === 'week' ? 'week' : 'sprint'}; escalate ${p('symptom')} to them.`,
  (p) => `${p('tech')} for the ${p('service')} service runs with ${p('number')} replicas in production.`,
  (p) => `The ${p('service')} API returns ${p('symptom')} when ${p('condition')}; retry with backoff.`,
  (p) => `Run make ${p('file')} before the ${p('service')} tests, or the generated ${p('file')} code is stale.`,
  (p) => `${p('tool')} builds of ${p('dir')} are cached on CI; bust the cache by bumping ${p('envVar')}.`,
  (p) => `The ${p('service')} dashboard in Grafana shows ${p('thing').replace('the ', '')} per ${p('period')}.`,
  (p, r) => `We ${p('action')} ${p('thing')} of the ${p('service')} service in Q${1 + Math.floor(r() * 4)} to cut costs.`,
  (p) => `The ${p('service')} schema keeps ${p('number')} days of history in ${p('tech')}.`,
  (p) => `Ask the ${p('team')} team for access to the ${p('service')} ${p('tech')} cluster.`,
  (p) => `${p('person')} wrote the runbook for ${p('symptom')} in the ${p('service')} service.`,
  (p) => `The ${p('service')} client in ${p('dir')} wraps ${p('tech')} and adds ${p('thing').replace('the ', '')}.`,
  (p) => `Load tests showed the ${p('service')} endpoint handles ${p('number')}0 requests per second on one pod.`,
  (p) => `The ${p('file')} helper in ${p('dir')} is deprecated; use the ${p('service')} SDK's ${p('file')} instead.`,
  (p) => `Feature flag ${p('service')}-${p('file')}-v2 is on for internal users only.`,
  (p) => `${p('tool')} warns about ${p('cause')} in ${p('dir')}; it is a known false positive.`,
];

/** `count` distinct distractor memories. */
export function generateDistractors(count: number, seed: number): string[] {
  const r = rng(seed);
  const pick: Pick = (k) => {
    const list = V[k];
    return list[Math.floor(r() * list.length)]!;
  };
  const out = new Set<string>();
  while (out.size < count) out.add(TEMPLATES[Math.floor(r() * TEMPLATES.length)]!(pick, r));
  return [...out];
}
