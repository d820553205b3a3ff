import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { decode, encode } from '@msgpack/msgpack';
import { z } from 'zod';
import { z as z4 } from 'zod/v4';
import type { Logger } from '../lib/log.js';
import { MAX_JSON_DEPTH, describeZodError, int64Text, tooDeepAt } from '../lib/validate.js';
import { MAX_PUSH_BATCH, MAX_PUSH_BYTES, RECORD_KINDS, type WireRecord } from '../coord/wire.js';
import { recordId } from '../coord/records.js';
import { StoreUnavailableError, type HubStore } from './store.js';
import { MAX_SKEW_S, parseAuthorization, verifySignature, type ParsedSig } from './signature.js';
import { parsePublicKey } from './identity.js';

export { MAX_PUSH_BATCH };
export const MAX_PULL_LIMIT = 1000;
const MSGPACK = 'application/msgpack';

// The push body is the hub's hot path: validated with zod's v4 engine, about twice as fast.
const recordSchema = z4.strictObject({
  kind: z4.enum(RECORD_KINDS),
  record_id: z4.string().regex(/^[0-9a-f]{64}$/, 'must be 64 hex digits'),
  run_id: z4.string().min(1).max(200),
  payload: z4.record(z4.string(), z4.unknown()),
  created_at: z4.number().int().nonnegative(),
  expires_at: z4.number().int().nonnegative().nullable(),
  origin: z4.string().min(1).max(200),
});
const pushSchema = z4.strictObject({ records: z4.array(recordSchema) });
const repoParams = z.object({
  owner: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'not a valid owner'),
  slug: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'not a valid slug'),
});
const pullQuery = z.object({
  since: int64Text.default('0'),
  kinds: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',').filter(Boolean) : undefined))
    .pipe(z.array(z.enum(RECORD_KINDS)).optional()),
  limit: z.coerce.number().int().min(1).max(MAX_PULL_LIMIT).default(MAX_PULL_LIMIT),
});

export interface HubOptions {
  store: HubStore;
  logger: Logger;
  allowUnsigned?: boolean;
  /** Seconds since the epoch; injectable for signature-skew tests. */
  now?: () => number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The hub: per repository an append-only, deduplicated record log that colonies push to
 * and pull from, every request signed by a registered ed25519 key.
 */
export function buildHub(opts: HubOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'hub' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_PUSH_BYTES,
  });
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  opts.store.onError = (err) => app.log.warn({ err: err.message }, 'hub database connection lost; reconnecting on demand');
  // Parsed public keys by their text: verifying must not re-import a key per request.
  const keyObjects = new Map<string, ReturnType<typeof parsePublicKey>>();
  const keyObject = (text: string): ReturnType<typeof parsePublicKey> => {
    let k = keyObjects.get(text);
    if (!k) keyObjects.set(text, (k = parsePublicKey(text)));
    return k;
  };
  const metrics = { pushed: 0, skipped: 0, refused: 0, pulled: 0, unauthorized: 0 };

  // Keep bodies raw: the signature covers the exact bytes.
  app.addContentTypeParser(['application/json', MSGPACK], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: any, req, reply) => {
    if (err instanceof HttpError) return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
    if (err instanceof StoreUnavailableError) {
      // The database is away (restarting, connection dropped): say so and let clients retry.
      req.log.warn({ err: err.message }, 'hub database unavailable');
      return reply.code(503).header('retry-after', '1').send({ error: { code: 'unavailable', message: 'the hub database is unavailable; retry shortly' } });
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ error: { code: 'payload_too_large', message: `push bodies are limited to ${MAX_PUSH_BYTES} bytes: send fewer records per request` } });
    }
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: { code: 'bad_request', message: err.message } });
    req.log.error({ err }, 'hub error');
    return reply.code(500).send({ error: { code: 'internal', message: 'internal error' } });
  });

  const unauthorized = (reason: string): never => {
    metrics.unauthorized++;
    throw new HttpError(401, 'unauthorized', reason);
  };

  /**
   * First half of authentication, before a byte of the body is read: the header parses,
   * names a key registered for the repository, and its time is within the skew window.
   * A request that fails here is answered 401 and its connection closed, so an
   * unauthenticated client cannot make the hub buffer a body.
   */
  const pending = new WeakMap<FastifyRequest, { sig: ParsedSig; keyId: string; publicKey: string }>();
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/repos/')) return;
    const header = req.headers.authorization;
    if (!header && opts.allowUnsigned) return;
    try {
      const repo = repoOf(req);
      const sig = parseAuthorization(header);
      if (!sig) return unauthorized(header ? 'malformed Colony-Sig authorization header' : 'missing Colony-Sig authorization header');
      const key = await opts.store.keyFor(sig.keyId, repo);
      if (!key) return unauthorized(`unknown key ${sig.keyId} for ${repo}`);
      const t = now();
      if (Math.abs(t - sig.ts) > MAX_SKEW_S) return unauthorized(`timestamp ${sig.ts} is more than ${MAX_SKEW_S} s from the hub's clock (${t})`);
      pending.set(req, { sig, keyId: key.key_id, publicKey: key.public_key });
    } catch (err) {
      void reply.header('connection', 'close');
      throw err;
    }
  });

  /**
   * Second half, once the (size-capped) body is in: the signature covers it, and it was
   * never used before. The replay cache lives in the hub's database, keyed by the decoded
   * signature bytes, so neither a re-encoding of the same signature nor a hub restart lets
   * a captured request count twice. Returns the signer's key id (undefined when unsigned).
   */
  async function authenticate(req: FastifyRequest): Promise<string | undefined> {
    const p = pending.get(req);
    if (!p) {
      // Unsigned, and the hub allows it; anything else here never passed the header check.
      if (opts.allowUnsigned && !req.headers.authorization) return undefined;
      return unauthorized('missing Colony-Sig authorization header');
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!verifySignature(keyObject(p.publicKey), p.sig, req.method, req.url, body)) return unauthorized('bad signature');
    if (!(await opts.store.rememberSignature(p.sig.bytes, p.sig.ts, now() - MAX_SKEW_S))) return unauthorized('signature already used (replay)');
    return p.keyId;
  }

  function repoOf(req: FastifyRequest): string {
    const r = repoParams.safeParse(req.params);
    if (!r.success) throw new HttpError(400, 'invalid_input', describeZodError(r.error));
    return `${r.data.owner}/${r.data.slug}`;
  }

  function send(req: FastifyRequest, reply: FastifyReply, value: unknown, jsonText?: string): FastifyReply {
    if ((req.headers.accept ?? '').includes(MSGPACK)) return reply.type(MSGPACK).send(Buffer.from(encode(value)));
    return reply.type('application/json').send(jsonText ?? JSON.stringify(value));
  }

  app.post('/v1/repos/:owner/:slug/records', async (req, reply) => {
    const repo = repoOf(req);
    const signer = await authenticate(req);
    const raw = Buffer.isBuffer(req.body) ? req.body : undefined;
    if (!raw || raw.length === 0) throw new HttpError(400, 'invalid_input', 'empty body: send {records: [...]}');
    let parsed: unknown;
    try {
      parsed = (req.headers['content-type'] ?? '').startsWith(MSGPACK) ? decode(raw) : JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'invalid_input', `body is not valid ${(req.headers['content-type'] ?? '').startsWith(MSGPACK) ? 'MessagePack' : 'JSON'}`);
    }
    // Hashing and validating walk the payloads recursively: a body nested 20,000 deep must be
    // refused before either, by an iterative walk.
    const deep = tooDeepAt(parsed, MAX_JSON_DEPTH);
    if (deep !== undefined) throw new HttpError(400, 'invalid_input', `records: nested deeper than ${MAX_JSON_DEPTH} levels (at ${deep})`);
    const count = Array.isArray((parsed as { records?: unknown })?.records) ? (parsed as { records: unknown[] }).records.length : 0;
    if (count > MAX_PUSH_BATCH) throw new HttpError(413, 'payload_too_large', `at most ${MAX_PUSH_BATCH} records per push (got ${count})`);
    const body = pushSchema.safeParse(parsed);
    if (!body.success) throw new HttpError(400, 'invalid_input', describeZodError(body.error));
    // record_id is the content hash: a record cannot pose as another one already stored.
    const forged = body.data.records.findIndex((r) => recordId(r.kind, r.payload) !== r.record_id);
    if (forged >= 0) throw new HttpError(400, 'invalid_input', `records[${forged}].record_id is not the content hash of its kind and payload`);
    // A signed push speaks for its key: the hub stamps the origin, so no colony can pose as another.
    const records: WireRecord[] = signer ? body.data.records.map((r) => ({ ...r, origin: signer })) : body.data.records;
    const result = await opts.store.insert(repo, records);
    metrics.pushed += result.inserted;
    metrics.skipped += result.skipped;
    metrics.refused += result.refused.length;
    return send(req, reply, result);
  });

  app.get('/v1/repos/:owner/:slug/records', async (req, reply) => {
    const repo = repoOf(req);
    await authenticate(req);
    const q = pullQuery.safeParse(req.query);
    if (!q.success) throw new HttpError(400, 'invalid_input', describeZodError(q.error));
    if (!(await opts.store.repoKnown(repo))) throw new HttpError(404, 'unknown_repo', `unknown repository ${repo}`);
    const r = await opts.store.read(repo, BigInt(q.data.since), q.data.kinds, q.data.limit);
    metrics.pulled += r.bodies.length;
    if ((req.headers.accept ?? '').includes(MSGPACK)) {
      return send(req, reply, { records: r.bodies.map((b) => JSON.parse(b)), cursor: r.cursor, more: r.more });
    }
    // Stored JSON is spliced as is: no parse and re-encode per record.
    return send(req, reply, null, `{"records":[${r.bodies.join(',')}],"cursor":${JSON.stringify(r.cursor)},"more":${r.more}}`);
  });

  app.get('/health', async () => ({ status: 'ok', backend: opts.store.kind, signed: !opts.allowUnsigned }));
  app.get('/metrics', async (_req, reply) =>
    reply
      .type('text/plain; version=0.0.4')
      .send(
        [
          '# TYPE colony_hub_records_inserted_total counter',
          `colony_hub_records_inserted_total ${metrics.pushed}`,
          '# TYPE colony_hub_records_skipped_total counter',
          `colony_hub_records_skipped_total ${metrics.skipped}`,
          '# TYPE colony_hub_records_refused_total counter',
          `colony_hub_records_refused_total ${metrics.refused}`,
          '# TYPE colony_hub_records_pulled_total counter',
          `colony_hub_records_pulled_total ${metrics.pulled}`,
          '# TYPE colony_hub_unauthorized_total counter',
          `colony_hub_unauthorized_total ${metrics.unauthorized}`,
        ].join('\n') + '\n',
      ),
  );
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } }));
  return app;
}
