import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/daemon/config.js';
import { loadOrCreateToken } from '../../src/daemon/token.js';
import { tempDir } from '../helpers/repo.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.forEach((c) => c());
  cleanups = [];
});

function repoWithConfig(cfg?: unknown): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  if (cfg !== undefined) {
    mkdirSync(join(t.dir, '.colony'));
    writeFileSync(join(t.dir, '.colony', 'config.json'), typeof cfg === 'string' ? cfg : JSON.stringify(cfg));
  }
  return t.dir;
}

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig(repoWithConfig(), {}, {});
    expect(c).toMatchObject({
      host: '127.0.0.1',
      max_concurrency: 10,
      max_queue_depth: 100,
      job_ttl: 3600,
      max_prompt_bytes: 1024 * 1024,
      keep_workspace: 'on_failure',
      default_agent: 'claude',
    });
    expect(Object.keys(c.agents)).toEqual(['claude', 'codex', 'gemini', 'aider']);
    // No port configured: the daemon tries 7420 and takes a free one when that is in use.
    expect(c.port).toBeUndefined();
  });

  it('takes flags over environment over file over defaults', () => {
    const repo = repoWithConfig({ port: 1111, max_concurrency: 3, max_queue_depth: 7, job_ttl: 50 });
    const env = { COLONY_PORT: '2222', COLONY_MAX_CONCURRENCY: '4' };
    const c = loadConfig(repo, { port: '3333' }, env);
    expect(c.port).toBe(3333); // flag
    expect(c.max_concurrency).toBe(4); // env
    expect(c.max_queue_depth).toBe(7); // file
    expect(c.job_timeout).toBe(1800); // default
    expect(loadConfig(repo, { port: undefined }, env).port).toBe(2222);
  });

  it('counts running jobs in max_queue_depth: it may not be below max_concurrency, and grows with it when unset', () => {
    expect(() => loadConfig(repoWithConfig({ max_concurrency: 4, max_queue_depth: 3 }), {}, {})).toThrow(
      /max_queue_depth \(3\) counts running and waiting jobs, so it must be at least max_concurrency \(4\)/,
    );
    expect(loadConfig(repoWithConfig({ max_concurrency: 4, max_queue_depth: 4 }), {}, {}).max_queue_depth).toBe(4);
    expect(loadConfig(repoWithConfig({ max_concurrency: 250 }), {}, {}).max_queue_depth).toBe(250);
    expect(() => loadConfig(repoWithConfig({ max_queue_depth: 0 }), {}, {})).toThrow(/max_queue_depth/);
  });

  it('names the bad field and refuses broken files', () => {
    expect(() => loadConfig(repoWithConfig(), { max_concurrency: '0' }, {})).toThrow(/max_concurrency/);
    expect(() => loadConfig(repoWithConfig('{nope'), {}, {})).toThrow(/not valid JSON/);
    expect(() => loadConfig(repoWithConfig({ keep_workspace: 'sometimes' }), {}, {})).toThrow(/keep_workspace/);
    expect(() => loadConfig(repoWithConfig({ default_agent: 'ghost' }), {}, {})).toThrow(/default_agent 'ghost'/);
  });

  it('reads the memory embedder settings, with yes/no flags from JSON or the environment', () => {
    const repo = repoWithConfig({ embedder: 'glove', embed_remote_models: true });
    expect(loadConfig(repo, {}, {})).toMatchObject({ embedder: 'glove', embed_remote_models: true, embed_batch: 64, embed_base_url: 'https://api.openai.com/v1' });
    expect(loadConfig(repo, {}, { COLONY_EMBED_REMOTE_MODELS: '0' }).embed_remote_models).toBe(false);
    expect(loadConfig(repoWithConfig(), {}, { COLONY_EMBED_REMOTE_MODELS: 'true' }).embed_remote_models).toBe(true);
    expect(() => loadConfig(repo, {}, { COLONY_EMBED_REMOTE_MODELS: 'yes' })).toThrow(/embed_remote_models: must be true or false \(or 1 or 0\)/);
    expect(() => loadConfig(repo, {}, { COLONY_EMBEDDER: 'word2vec' })).toThrow(/embedder: 'word2vec' is not one of/);
  });

  it('refuses an unknown key, naming it and the closest known key', () => {
    const repo = repoWithConfig({ max_concurency: 3 });
    expect(() => loadConfig(repo, {}, {})).toThrow(`${join(repo, '.colony', 'config.json')}: unknown key 'max_concurency'; did you mean 'max_concurrency'?`);
    expect(() => loadConfig(repoWithConfig({ embeder: 'glove' }), {}, {})).toThrow(/unknown key 'embeder'; did you mean 'embedder'\?/);
    // Nothing close: the known keys are listed instead.
    expect(() => loadConfig(repoWithConfig({ zzzzzzzz: 1 }), {}, {})).toThrow(/unknown key 'zzzzzzzz' \(known: repo, host, .*max_concurrency, .*log_level.*\)/);
    // Inside an agent entry too.
    const agent = repoWithConfig({ agents: { claude: { type: 'claude', modles: ['opus'] } } });
    expect(() => loadConfig(agent, {}, {})).toThrow(/unknown key 'agents\.claude\.modles'; did you mean 'agents\.claude\.models'\?/);
  });

  it('refuses at load an agent that could never run: a command agent without argv', () => {
    const repo = repoWithConfig({ default_agent: 'mine', agents: { mine: { type: 'command', bin: 'my-agent' } } });
    expect(() => loadConfig(repo, {}, {})).toThrow(/agents\.mine\.argv: a 'command' agent needs argv/);
    const ok = repoWithConfig({ default_agent: 'mine', agents: { mine: { type: 'command', argv: ['my-agent', '{prompt}'] } } });
    expect(loadConfig(ok, {}, {}).agents.mine!.argv).toEqual(['my-agent', '{prompt}']);
  });

  it('generates the token once, mode 0600, and prefers a configured one', () => {
    const dir = repoWithConfig();
    const file = join(dir, '.colony', 'token');
    const t1 = loadOrCreateToken(file);
    expect(t1.length).toBeGreaterThanOrEqual(16);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateToken(file)).toBe(t1);
    expect(loadOrCreateToken(file, 'configured-token-xyz')).toBe('configured-token-xyz');
  });
});
