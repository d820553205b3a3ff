import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { describeZodError } from '../lib/validate.js';
import { ColonyError } from '../lib/errors.js';
import { colonyPaths } from './paths.js';
import { parseEmbedderSpec, type EmbedderSettings } from '../memory/embedders/index.js';
import { integrateConfigSchema, orchestrateConfigSchema } from '../land/config.js';

/** How an agent CLI is started; see runner/agents. */
export const agentConfigSchema = z
  .object({
    type: z.enum(['claude', 'codex', 'gemini', 'aider', 'command']),
    /** Binary to run; defaults to the type's usual name (claude, codex, gemini, aider). */
    bin: z.string().min(1).optional(),
    /** For `command`: argv template; `{prompt}` is replaced by the prompt, else it goes on stdin. */
    argv: z.array(z.string()).min(1).optional(),
    /** Extra arguments appended to the adapter's own. */
    args: z.array(z.string()).default([]),
    /** Models this agent offers, listed by GET /v1/models. */
    models: z.array(z.string()).default([]),
    env: z.record(z.string()).default({}),
  })
  .strict();
export type AgentConfig = z.infer<typeof agentConfigSchema>;

const DEFAULT_AGENTS: Record<string, AgentConfig> = {
  claude: { type: 'claude', args: [], models: ['sonnet', 'opus', 'haiku'], env: {} },
  codex: { type: 'codex', args: [], models: [], env: {} },
  gemini: { type: 'gemini', args: [], models: [], env: {} },
  aider: { type: 'aider', args: [], models: [], env: {} },
};

/** true/false from JSON, or from an environment variable's text. */
const flag = z.preprocess(
  (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
  z.boolean({ invalid_type_error: 'must be true or false (or 1 or 0)' }),
);

/** Where converted embedding data and downloaded models are kept, shared by every repository. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'colony');
}

const port = z.coerce.number().int().min(0).max(65535);
/** The port a daemon tries when none is configured; taken (another repository's daemon), it picks a free one. */
export const DEFAULT_PORT = 7420;
const positiveInt = z.coerce.number().int().positive();

export const configSchema = z
  .object({
    repo: z.string().min(1),
    host: z.string().min(1).default('127.0.0.1'),
    /** Browser origins (scheme://host:port) allowed besides the daemon's own; others get 403. */
    allowed_origins: z
      .preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(z.string().url().max(200)).max(100))
      .default([]),
    /** Unset: DEFAULT_PORT, or any free port when that is taken. Set: exactly this one (0 = any). */
    port: port.optional(),
    token: z.string().min(16).optional(),
    max_concurrency: positiveInt.default(10),
    /** Jobs in flight, running and waiting together, before /execute answers 429 (at least max_concurrency). */
    max_queue_depth: positiveInt.default(100),
    /** Seconds a job may run, counted from `running`. */
    job_timeout: positiveInt.default(1800),
    /** Seconds a finished job is kept before eviction. */
    job_ttl: positiveInt.default(3600),
    max_prompt_bytes: positiveInt.default(1024 * 1024),
    keep_workspace: z.enum(['on_failure', 'always', 'never']).default('on_failure'),
    /** Command run in each workspace before the agent: argv array, or a string run by `sh -c`. */
    setup: z.union([z.array(z.string()).min(1), z.string().min(1)]).optional(),
    default_agent: z.string().default('claude'),
    agents: z.record(agentConfigSchema).default(DEFAULT_AGENTS),
    /** Milliseconds between SIGTERM and SIGKILL when a job is cancelled or times out. */
    kill_grace_ms: positiveInt.default(5000),
    /** Seconds running jobs get to finish on SIGINT/SIGTERM before they are cancelled. */
    shutdown_grace: z.coerce.number().min(0).default(10),
    /** Hub to sync coordination records with, this colony's repository id there, and how often (s; 0 = never). */
    hub_url: z.string().url().optional(),
    repo_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\/[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must look like owner/slug').optional(),
    sync_every: z.coerce.number().min(0).default(0),
    /** Memory embedder: lexical (default, built in), glove, transformers:<model>, openai:<model>. Changing it re-embeds in the background. */
    embedder: z.string().min(1).default('lexical'),
    /** transformers: directory of local models (<dir>/<org>/<name>/onnx/model.onnx …). */
    embed_model_dir: z.string().min(1).optional(),
    /** transformers: download models from the Hugging Face hub (or embed_remote_host, a mirror) when not found locally. */
    embed_remote_models: flag.default(false),
    embed_remote_host: z.string().url().optional(),
    /** openai: the API root of an OpenAI-compatible server, and its key. */
    embed_base_url: z.string().url().default('https://api.openai.com/v1'),
    embed_api_key: z.string().min(1).optional(),
    /** Texts per embedding request or inference batch. */
    embed_batch: positiveInt.max(2048).default(64),
    cache_dir: z.string().min(1).optional(),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** The merge queue and job orchestration: see src/land/config.ts and the README's "Landing". */
    integrate: integrateConfigSchema.default({}),
    orchestrate: orchestrateConfigSchema.default({}),
  })
  .passthrough();

export type ColonyConfig = z.infer<typeof configSchema>;

/** CLI flag / env var / config key, for the settings that have all three. */
const ENV_KEYS: Record<string, string> = {
  COLONY_REPO: 'repo',
  COLONY_HOST: 'host',
  COLONY_ALLOWED_ORIGINS: 'allowed_origins',
  COLONY_PORT: 'port',
  COLONY_TOKEN: 'token',
  COLONY_MAX_CONCURRENCY: 'max_concurrency',
  COLONY_MAX_QUEUE_DEPTH: 'max_queue_depth',
  COLONY_JOB_TIMEOUT: 'job_timeout',
  COLONY_JOB_TTL: 'job_ttl',
  COLONY_MAX_PROMPT_BYTES: 'max_prompt_bytes',
  COLONY_KEEP_WORKSPACE: 'keep_workspace',
  COLONY_DEFAULT_AGENT: 'default_agent',
  COLONY_LOG_LEVEL: 'log_level',
  COLONY_HUB_URL: 'hub_url',
  COLONY_REPO_ID: 'repo_id',
  COLONY_SYNC_EVERY: 'sync_every',
  COLONY_EMBEDDER: 'embedder',
  COLONY_EMBED_MODEL_DIR: 'embed_model_dir',
  COLONY_EMBED_REMOTE_MODELS: 'embed_remote_models',
  COLONY_EMBED_REMOTE_HOST: 'embed_remote_host',
  COLONY_EMBED_BASE_URL: 'embed_base_url',
  COLONY_EMBED_API_KEY: 'embed_api_key',
  COLONY_EMBED_BATCH: 'embed_batch',
  COLONY_CACHE_DIR: 'cache_dir',
};

export function readConfigFile(repo: string): Record<string, unknown> {
  const file = colonyPaths(repo).config;
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ColonyError('bad_config', `${file}: not valid JSON (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ColonyError('bad_config', `${file}: must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const v = env[name];
    if (v !== undefined && v !== '') out[key] = v;
  }
  return out;
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/**
 * Resolve configuration, highest first: CLI flags, COLONY_* environment variables,
 * `.colony/config.json`, defaults. `repo` must already be resolved to the repository root.
 */
export function loadConfig(
  repo: string,
  flags: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = process.env,
): ColonyConfig {
  const merged = { ...readConfigFile(repo), ...fromEnv(env), ...dropUndefined(flags), repo };
  const r = configSchema.safeParse(merged);
  if (!r.success) throw new ColonyError('bad_config', `invalid configuration: ${describeZodError(r.error)}`);
  // max_queue_depth counts running jobs too: unset, it grows with a large max_concurrency.
  if (!('max_queue_depth' in merged)) r.data.max_queue_depth = Math.max(r.data.max_queue_depth, r.data.max_concurrency);
  if (r.data.max_queue_depth < r.data.max_concurrency) {
    throw new ColonyError(
      'bad_config',
      `invalid configuration: max_queue_depth (${r.data.max_queue_depth}) counts running and waiting jobs, so it must be at least max_concurrency (${r.data.max_concurrency})`,
    );
  }
  try {
    parseEmbedderSpec(r.data.embedder);
  } catch (err) {
    throw new ColonyError('bad_config', `invalid configuration: ${(err as Error).message}`);
  }
  if (!r.data.agents[r.data.default_agent]) {
    throw new ColonyError(
      'bad_config',
      `default_agent '${r.data.default_agent}' is not configured (have: ${Object.keys(r.data.agents).join(', ')})`,
    );
  }
  return r.data;
}

/** The memory embedder's settings from configuration (plain data: worker threads get a copy). */
export function embedderSettings(config: ColonyConfig, env: NodeJS.ProcessEnv = process.env): EmbedderSettings {
  return {
    spec: config.embedder,
    cacheDir: config.cache_dir ?? defaultCacheDir(env),
    modelDir: config.embed_model_dir,
    allowRemoteModels: config.embed_remote_models,
    remoteHost: config.embed_remote_host,
    baseUrl: config.embed_base_url,
    // OpenAI's own variable as a fallback, but never sent to another server.
    apiKey: config.embed_api_key ?? (new URL(config.embed_base_url).hostname === 'api.openai.com' ? env.OPENAI_API_KEY || undefined : undefined),
    batchSize: config.embed_batch,
  };
}
