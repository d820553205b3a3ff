import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import type { Daemon } from '../../src/daemon/daemon.js';
import { startTestDaemon, TEST_TOKEN } from '../helpers/daemon.js';
import { makeTempRepo } from '../helpers/repo.js';

let d: Daemon;
let client: OpenAI;
let cleanup: () => void;
beforeAll(async () => {
  const repo = makeTempRepo();
  cleanup = repo.cleanup;
  d = await startTestDaemon(repo.dir, { max_concurrency: 2, max_queue_depth: 2 });
  client = new OpenAI({ baseURL: `${d.url}/v1`, apiKey: TEST_TOKEN, maxRetries: 0 });
});
afterAll(async () => {
  await d.close();
  cleanup();
});

describe('OpenAI-compatible chat completions (official openai client)', () => {
  it('lists the configured agents and models', async () => {
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['colony/claude', 'haiku', 'sonnet', 'colony/codex']));
  });

  it('runs two completions at once, one streaming and one not', async () => {
    const plain = client.chat.completions.create({
      model: 'haiku',
      messages: [{ role: 'user', content: 'plain question' }],
    });
    const streamed = (async () => {
      const stream = await client.chat.completions.create({
        model: 'colony/claude',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'streamed question' },
        ],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const c of stream) chunks.push(c);
      return chunks;
    })();
    const [p, chunks] = await Promise.all([plain, streamed]);
    expect(p.object).toBe('chat.completion');
    expect(p.model).toBe('haiku');
    expect(p.choices[0]!.message.content).toBe('done: plain question');
    expect(p.choices[0]!.finish_reason).toBe('stop');
    expect(p.usage).toEqual({ prompt_tokens: 14, completion_tokens: 7, total_tokens: 21 });

    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text).toContain('streamed question');
    expect(text).toContain('System: be brief');
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
    expect(chunks[chunks.length - 1]!.usage?.total_tokens).toBe(21);

    // Both went through the job queue, with haiku routed to claude as its model.
    const jobs = ((await (await fetch(`${d.url}/jobs?limit=10`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })).json()) as any).jobs;
    const chatJobs = jobs.filter((j: any) => j.source === 'chat');
    expect(chatJobs).toHaveLength(2);
    expect(chatJobs.map((j: any) => j.model)).toEqual(expect.arrayContaining([null, 'haiku']));
  });

  it('answers errors in the OpenAI shape', async () => {
    await expect(
      client.chat.completions.create({ model: 'gpt-nope', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 400, error: { type: 'invalid_request_error', param: 'model' } });
    await expect(client.chat.completions.create({ model: 'haiku', messages: [] })).rejects.toMatchObject({ status: 400 });
    const noAuth = new OpenAI({ baseURL: `${d.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
    await expect(noAuth.models.list()).rejects.toMatchObject({ status: 401 });
  });

  it('returns 429 with Retry-After when no slot and no queue room is left', async () => {
    // Capacity 2, queue depth 0: two blocked completions fill the slots.
    const { mkdtempSync, writeFileSync, existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/colony-chat-`);
    const hold = (n: number) =>
      client.chat.completions.create({
        model: 'haiku',
        messages: [{ role: 'user', content: `hold ${n} [started:${dir}/s${n}] [block:${dir}/go]` }],
      });
    // Earlier jobs free their slots once their workspaces are cleaned up.
    for (;;) {
      if (((await (await fetch(`${d.url}/health`)).json()) as any).active === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const held = [hold(1), hold(2)];
    for (;;) {
      if (existsSync(`${dir}/s1`) && existsSync(`${dir}/s2`)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const res = await fetch(`${d.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'haiku', messages: [{ role: 'user', content: 'one too many' }] }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBeTruthy();
    expect(((await res.json()) as any).error).toMatchObject({ type: 'rate_limit_exceeded', code: 'queue_full' });
    writeFileSync(`${dir}/go`, '');
    await Promise.all(held);
  });

  it('answers a failed agent run once: the SDK, with its default retries, does not run the agent again', async () => {
    const retrying = new OpenAI({ baseURL: `${d.url}/v1`, apiKey: TEST_TOKEN });
    const marker = `fail-once-${Date.now()}`;
    const err = await retrying.chat.completions
      .create({ model: 'haiku', messages: [{ role: 'user', content: `${marker} [exit:3]` }] })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).toMatchObject({ status: 424, error: { type: 'agent_error', code: 'failed' } });
    expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get('x-should-retry')).toBe('false');
    const jobs = ((await (await fetch(`${d.url}/jobs?limit=100`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })).json()) as any).jobs;
    expect(jobs.filter((j: any) => j.prompt.startsWith(marker))).toHaveLength(1);
  });

  it('retrieves one model by id, slash included, and answers an unknown one with a 404 in the OpenAI shape', async () => {
    await expect(client.models.retrieve('colony/claude')).resolves.toMatchObject({ id: 'colony/claude', object: 'model', owned_by: 'colony/claude' });
    await expect(client.models.retrieve('haiku')).resolves.toMatchObject({ id: 'haiku', owned_by: 'colony/claude' });
    const err = await client.models.retrieve('gpt-nope').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err).toMatchObject({ status: 404, error: { type: 'invalid_request_error', code: 'model_not_found', param: 'model' } });
  });

  it('joins multi-part message content with newlines', async () => {
    const r = await client.chat.completions.create({
      model: 'haiku',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'first part' }, { type: 'text', text: 'second part' }] }],
    });
    expect(r.choices[0]!.message.content).toBe('done: first part\nsecond part');
  });
});
