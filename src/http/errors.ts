import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { isColonyError, QueueFullError } from '../lib/errors.js';
import { describeZodError } from '../lib/validate.js';

export interface ErrorBody {
  error: { code: string; message: string; [k: string]: unknown };
}

/** Map any thrown error to `{error: {code, message}}` with the right status; never leak a stack. */
export function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof ZodError) {
    void reply.code(400).send({ error: { code: 'invalid_input', message: describeZodError(err) } });
    return;
  }
  if (isColonyError(err)) {
    if (err instanceof QueueFullError) void reply.header('retry-after', String(err.retryAfterSeconds));
    void reply.code(err.status).send({ error: { code: err.code, message: err.message, ...(err.details ?? {}) } });
    return;
  }
  const fe = err as FastifyError;
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code =
      fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'payload_too_large'
        : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? 'unsupported_media_type'
          : 'bad_request';
    void reply.code(fe.statusCode).send({ error: { code, message: fe.message } });
    return;
  }
  req.log.error({ err }, 'unhandled error');
  void reply.code(500).send({ error: { code: 'internal', message: 'internal error' } });
}
