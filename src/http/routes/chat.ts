import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { isColonyError, QueueFullError } from '../../lib/errors.js';
import { parseInput } from '../../lib/validate.js';
import { listModels, routeModel } from '../../runner/model-routing.js';
import { FINISHED_STATUSES, type JobEvent, type JobRecord } from '../../runner/types.js';
import type { AppDeps } from '../deps.js';
import { openSse } from '../sse.js';
import { metadataSchema } from './jobs.js';

const contentPart = z.object({ type: z.string(), text: z.string().optional() }).passthrough();
const message = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: z.union([z.string(), z.array(contentPart), z.null()]),
    name: z.string().optional(),
  })
  .passthrough();

const chatSchema = (maxMetadataBytes: number) => z
  .object({
    model: z.string().min(1),
    messages: z.array(message).min(1, 'must hold at least one message'),
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().optional(),
    metadata: metadataSchema(maxMetadataBytes).optional(),
  })
  .passthrough();

type ChatMessage = z.infer<typeof message>;

function textOf(m: ChatMessage): string {
  if (typeof m.content === 'string') return m.content;
  if (!m.content) return '';
  // Text parts are separate paragraphs to the client; gluing them together would merge words.
  return m.content.flatMap((p) => (p.text === undefined ? [] : [p.text])).join('\n');
}

/** One user message is the prompt as is; a conversation becomes a labelled transcript. */
export function messagesToPrompt(messages: ChatMessage[]): string {
  if (messages.length === 1 && messages[0]!.role === 'user') return textOf(messages[0]!);
  const label: Record<ChatMessage['role'], string> = {
    system: 'System',
    developer: 'System',
    user: 'User',
    assistant: 'Assistant',
    tool: 'Tool',
  };
  return messages.map((m) => `${label[m.role]}: ${textOf(m)}`).join('\n\n');
}

/** OpenAI clients expect `{error: {message, type, param, code}}`. */
function sendOpenAiError(reply: FastifyReply, err: unknown): FastifyReply {
  if (isColonyError(err)) {
    if (err instanceof QueueFullError) void reply.header('retry-after', String(err.retryAfterSeconds));
    const fields = (err.details?.fields as string[] | undefined) ?? [];
    const type =
      err.status === 429 ? 'rate_limit_exceeded' : err.status === 401 ? 'authentication_error' : 'invalid_request_error';
    return reply
      .code(err.status)
      .send({ error: { message: err.message, type, param: fields[0] ?? null, code: err.code } });
  }
  throw err;
}

function usageOf(job: JobRecord): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const u = job.usage ?? {};
  const prompt = (u.input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0);
  const completion = u.output_tokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function jobFailure(job: JobRecord): { message: string; type: string; param: null; code: string } {
  return { message: job.error ?? `job ${job.status}`, type: 'agent_error', param: null, code: job.status };
}

/**
 * A failed agent run is final: retrying it would run the agent (and its edits) again. 424
 * (the request failed because the agent it depends on failed) is a status no OpenAI client
 * retries, unlike 5xx; `x-should-retry: false` says so explicitly to the SDKs that read it.
 */
function sendJobFailure(reply: FastifyReply, job: JobRecord): FastifyReply {
  return reply.code(424).header('x-should-retry', 'false').send({ error: jobFailure(job) });
}

export function chatRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { runner, config } = deps;
  const chat = chatSchema(config.max_metadata_bytes);

  const modelObject = (m: { id: string; agent: string }) => ({ id: m.id, object: 'model', created: 0, owned_by: `colony/${m.agent}` });

  app.get('/v1/models', async () => ({ object: 'list', data: listModels(config).map(modelObject) }));

  app.get('/v1/models/*', async (req, reply) => {
    // A wildcard, not `:id`: model ids such as `colony/claude` hold a slash.
    const id = (req.params as { '*': string })['*'];
    const found = listModels(config).find((m) => m.id === id);
    if (found) return modelObject(found);
    return reply.code(404).send({
      error: { message: `The model '${id}' does not exist; see GET /v1/models`, type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
    });
  });

  app.post('/v1/chat/completions', async (req, reply) => {
    let body: z.infer<ReturnType<typeof chatSchema>>;
    let submitted: { job_id: string };
    let model: string;
    try {
      body = parseInput(chat, req.body ?? {});
      const routed = routeModel(config, body.model);
      model = body.model;
      submitted = runner.submit({
        prompt: messagesToPrompt(body.messages),
        agent: routed.agent,
        model: routed.model,
        metadata: body.metadata,
        source: 'chat',
      });
    } catch (err) {
      return sendOpenAiError(reply, err);
    }
    const jobId = submitted.job_id;
    const completionId = `chatcmpl-${jobId}`;
    const created = Math.floor(Date.now() / 1000);
    // A client that goes away no longer wants the answer: free the slot.
    const abandon = (): void => {
      if (!FINISHED_STATUSES.has(runner.get(jobId).status)) runner.cancel(jobId);
    };

    if (!body.stream) {
      const gone = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) gone.abort();
      });
      const job = await runner.waitFor(jobId, gone.signal);
      if (gone.signal.aborted) {
        abandon();
        return reply;
      }
      if (job.status !== 'completed') return sendJobFailure(reply, job);
      return {
        id: completionId,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: job.result ?? '' }, finish_reason: 'stop', logprobs: null }],
        usage: usageOf(job),
        colony: { job_id: jobId, branch: job.branch, diff_stat: job.diff_stat },
      };
    }

    const sse = openSse(req, reply, { 'x-colony-job-id': jobId });
    const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}): void =>
      sse.send({
        data: JSON.stringify({
          id: completionId,
          object: 'chat.completion.chunk',
          created,
          model,
          choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
          ...extra,
        }),
      });
    chunk({ role: 'assistant', content: '' });
    let streamedText = false;
    const onEvent = (e: JobEvent): void => {
      if (e.type === 'agent' && e.data.type === 'text' && typeof e.data.text === 'string' && e.data.text) {
        streamedText = true;
        chunk({ content: e.data.text });
      }
    };
    const unsubscribe = runner.subscribe(jobId, onEvent);
    sse.onClose(() => {
      unsubscribe();
      abandon();
    });
    const job = await runner.waitFor(jobId);
    unsubscribe();
    if (sse.closed) return reply;
    if (job.status !== 'completed') {
      sse.send({ data: JSON.stringify({ error: jobFailure(job) }) });
    } else {
      // CLIs that print only a final result still give the client the answer.
      if (!streamedText && job.result) chunk({ content: job.result });
      chunk({}, 'stop');
      if (body.stream_options?.include_usage) {
        sse.send({
          data: JSON.stringify({ id: completionId, object: 'chat.completion.chunk', created, model, choices: [], usage: usageOf(job) }),
        });
      }
    }
    sse.send({ data: '[DONE]' });
    sse.close();
    return reply;
  });
}
