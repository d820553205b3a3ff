import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { OpenAIEmbedder } from '../../src/memory/embedders/openai.js';
import { TransformersEmbedder } from '../../src/memory/embedders/transformers.js';
import { cosine, createEmbedder, embedderId, parseEmbedderSpec, type EmbedderSettings } from '../../src/memory/embedders/index.js';
import { gloveCachePath } from '../../src/memory/embedders/glove-cache.js';
import { EmbeddingsServer } from '../../bench/embeddings-server.js';
import { writeTinyBert } from '../helpers/tiny-bert.js';
import { makeTempRepo, tempDir } from '../helpers/repo.js';
import { api, startTestDaemon } from '../helpers/daemon.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function settings(over: Partial<EmbedderSettings>): EmbedderSettings {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return { spec: 'lexical', cacheDir: join(t.dir, 'cache'), allowRemoteModels: false, baseUrl: 'http://127.0.0.1:9/v1', batchSize: 64, ...over };
}

const norm = (v: Float32Array): number => Math.sqrt(cosine(v, v));

describe('embedder specs', () => {
  it('parses the four kinds and refuses anything else', () => {
    expect(parseEmbedderSpec('lexical')).toEqual({ kind: 'lexical' });
    expect(parseEmbedderSpec('transformers:Xenova/all-MiniLM-L6-v2')).toEqual({ kind: 'transformers', model: 'Xenova/all-MiniLM-L6-v2' });
    expect(embedderId('openai:nomic-embed-text')).toBe('openai:nomic-embed-text');
    for (const bad of ['', 'bert', 'openai:', 'transformers:../../etc', 'openai:a b']) expect(() => parseEmbedderSpec(bad), bad).toThrow(/embedder/);
  });
});

describe('openai-compatible embedder', () => {
  it('batches, orders by index, normalises, sends the key, and retries 429 and 5xx', async () => {
    const server = await EmbeddingsServer.start();
    cleanups.push(() => server.close());
    const e = new OpenAIEmbedder('test-model', { baseUrl: server.baseUrl, apiKey: 'sk-test', batchSize: 2 });
    server.failures.push({ status: 500 }, { status: 429, retryAfter: 0 });
    const texts = ['one', 'two', 'three', 'four', 'five'];
    const vectors = await e.embed(texts);
    // 3 batches, the first tried three times.
    expect(server.requests.map((r) => r.input)).toEqual([['one', 'two'], ['one', 'two'], ['one', 'two'], ['three', 'four'], ['five']]);
    expect(server.requests.every((r) => r.authorization === 'Bearer sk-test' && r.model === 'test-model')).toBe(true);
    texts.forEach((t, i) => {
      const raw = EmbeddingsServer.vector(t);
      const len = Math.hypot(...raw);
      expect(Array.from(vectors[i]!)).toEqual(raw.map((x) => Math.fround(x / len)));
      expect(norm(vectors[i]!)).toBeCloseTo(1, 5);
    });
  });

  it('fails at once on a client error, naming the server and its message', async () => {
    const server = await EmbeddingsServer.start();
    cleanups.push(() => server.close());
    server.failures.push({ status: 401 });
    const e = new OpenAIEmbedder('m', { baseUrl: server.baseUrl, batchSize: 8 });
    await expect(e.embed(['x'])).rejects.toThrow(/HTTP 401.*failure 401/);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.authorization).toBeUndefined();
  });
});

describe('glove embedder', () => {
  it('converts the package data once into a compact cache, and knows synonyms hashing cannot', async () => {
    const s = settings({ spec: 'glove' });
    const logs: string[] = [];
    const glove = await createEmbedder(s, (m) => logs.push(m));
    const cache = gloveCachePath(s.cacheDir);
    expect(statSync(cache).size).toBeLessThan(50_000_000);
    expect(logs.join('\n')).toMatch(/converting GloVe vectors/);
    // A second load reads the cache and converts nothing.
    const again: string[] = [];
    await createEmbedder(s, (m) => again.push(m));
    expect(again).toEqual([]);

    const [a, b, c] = await glove.embed(['reset my password', 'forgot my login credentials', 'the deploy pipeline is slow on mondays']);
    expect(norm(a!)).toBeCloseTo(1, 4);
    expect(cosine(a!, b!)).toBeGreaterThan(cosine(a!, c!) + 0.1);
    const lexical = await createEmbedder(settings({ spec: 'lexical' }));
    const [la, lb] = await lexical.embed(['reset my password', 'forgot my login credentials']);
    expect(cosine(a!, b!)).toBeGreaterThan(cosine(la!, lb!) + 0.2);
    // Identifiers count as their words; unknown words are ignored, not fatal.
    const [camel, spaced, unknown] = await glove.embed(['resetPassword', 'reset password', 'qzxqzxq']);
    expect(cosine(camel!, spaced!)).toBeCloseTo(1, 5);
    expect(norm(unknown!)).toBe(0);
  });

  it('in a daemon: converts once while calls wait, then recalls a memory that shares no word with the cue', async () => {
    const repo = makeTempRepo();
    cleanups.push(repo.cleanup);
    const cacheDir = join(repo.dir, '.colony', 'cache');
    const d = await startTestDaemon(repo.dir, { embedder: 'glove', cache_dir: cacheDir });
    cleanups.push(() => d.close());
    const texts = ['To reset your password use the self-service portal.', 'The deploy pipeline is slow on Mondays.', 'Lunch is served at noon in the cafeteria.', 'Invoices are emailed on the first of the month.'];
    const { body } = await api(d.url, 'POST', '/memory/import', { memories: texts.map((text) => ({ text })) });
    expect(body).toEqual({ stored: 4 });
    const r = await api(d.url, 'POST', '/memory/recall', { cue: 'forgot my login credentials', budget_tokens: 1000, k: 4 });
    expect(r.body.memories[0].text).toBe(texts[0]);
    expect((await api(d.url, 'POST', '/memory/stats', {})).body).toMatchObject({ embedder: 'glove-100d', embedding: { current: 4, pending: 0 } });
    // One conversion, by the daemon's thread: nothing left behind but the cache.
    expect(readdirSync(cacheDir)).toEqual([basename(gloveCachePath(cacheDir))]);
  });
});

describe('transformers embedder', () => {
  it('loads a local model offline, mean-pools in batches, and explains a missing model', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    writeTinyBert(t.dir, 'test/tiny-bert', { hidden: 24, seed: 3 });
    const s = settings({ spec: 'transformers:test/tiny-bert', modelDir: t.dir, batchSize: 2 });
    const e = await createEmbedder(s);
    cleanups.push(() => e.close?.());
    expect(e).toBeInstanceOf(TransformersEmbedder);
    expect(e.id).toBe('transformers:test/tiny-bert');
    const texts = ['alpha build failed', 'the migration is slow', 'tests pass', 'deploy on friday', 'alpha build failed'];
    const batched = await e.embed(texts);
    expect(batched).toHaveLength(5);
    for (const [i, text] of texts.entries()) {
      expect(batched[i]!.length).toBe(24);
      expect(norm(batched[i]!)).toBeCloseTo(1, 4);
      const [alone] = await e.embed([text]);
      for (let j = 0; j < 24; j++) expect(alone![j]).toBeCloseTo(batched[i]![j]!, 5);
    }
    expect(Array.from(batched[4]!)).toEqual(Array.from(batched[0]!));
    expect(cosine(batched[0]!, batched[1]!)).toBeLessThan(0.9999);

    const missing = settings({ spec: 'transformers:nobody/nothing', modelDir: t.dir });
    await expect(createEmbedder(missing)).rejects.toThrow(/cannot load transformers model 'nobody\/nothing'.*embed_remote_models/);
    expect(existsSync(join(t.dir, 'nobody'))).toBe(false);
  });
});

describe('transformers downloads', () => {
  it('fetches a model from the configured host with progress, then loads it from the cache offline', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const source = writeTinyBert(join(t.dir, 'hub'), 'acme/tiny', { hidden: 8 });
    // A stand-in for the Hugging Face hub: /<model>/resolve/<revision>/<file>.
    const requested: string[] = [];
    const hub = createServer((req, res) => {
      requested.push(req.url!);
      const m = /^\/acme\/tiny\/resolve\/[^/]+\/(.+)$/.exec(req.url!);
      const file = m ? join(source, decodeURIComponent(m[1]!)) : '';
      if (!m || !existsSync(file)) return void res.writeHead(404).end('not found');
      const body = readFileSync(file);
      res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' }).end(body);
    });
    await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => hub.close(r)));
    const cacheDir = join(t.dir, 'cache');
    const logs: string[] = [];
    const remote = settings({ spec: 'transformers:acme/tiny', cacheDir, allowRemoteModels: true, remoteHost: `http://127.0.0.1:${(hub.address() as AddressInfo).port}` });
    const e = await createEmbedder(remote, (m) => logs.push(m));
    cleanups.push(() => e.close?.());
    const [v] = await e.embed(['downloaded model works']);
    expect(v!.length).toBe(8);
    expect(requested.some((u) => u.endsWith('/onnx/model.onnx'))).toBe(true);
    expect(logs.some((l) => /^downloading acme\/tiny\/onnx\/model\.onnx: 100% of [\d.]+ MB$/.test(l)), logs.join('\n')).toBe(true);

    // Offline now: the cache is enough.
    const before = requested.length;
    const offline = await createEmbedder({ ...remote, allowRemoteModels: false, remoteHost: undefined });
    cleanups.push(() => offline.close?.());
    expect(Array.from((await offline.embed(['downloaded model works']))[0]!)).toEqual(Array.from(v!));
    expect(requested.length).toBe(before);
  });
});

