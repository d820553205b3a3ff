import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { AppDeps } from './deps.js';
import { installAuth } from './auth.js';
import { installOriginCheck } from './origin.js';
import { errorHandler } from './errors.js';
import { MAX_JSON_DEPTH, assertJsonDepth } from '../lib/validate.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { chatRoutes } from './routes/chat.js';
import { metricsRoutes } from './routes/metrics.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { toolRoutes } from './routes/tools.js';
import { coordRoutes } from './routes/coord.js';
import { mcpRoutes } from './routes/mcp.js';
import { memoryRoutes } from './routes/memory.js';
import { eventRoutes } from './routes/events.js';
import { landRoutes } from './routes/land.js';
import { swarmRoutes } from './routes/swarms.js';

/** The daemon's HTTP API: one route module per domain, auth and error shape shared. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Per-request logs would drown the job logs; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // Prompts may be up to max_prompt_bytes and metadata max_metadata_bytes; leave room for the JSON around them.
    bodyLimit: deps.config.max_prompt_bytes + deps.config.max_metadata_bytes + 64 * 1024,
    // Bad URLs and headers refused by the router get the same error shape as everything else.
    frameworkErrors: (err, _req, reply) => {
      void (reply as FastifyReply).code(err.statusCode && err.statusCode < 500 ? err.statusCode : 400).send({ error: { code: 'bad_request', message: err.message } });
    },
  });
  app.setErrorHandler(errorHandler);
  // A POST without a body (cancel, stats) may still say `content-type: application/json`, as
  // browsers' fetch wrappers do: read an empty body as no body instead of refusing it.
  const json = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) =>
    body === '' ? done(null, undefined) : json(req, body as string, done),
  );
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });
  installOriginCheck(app, { host: deps.config.host, allowedOrigins: deps.config.allowed_origins });
  installAuth(app, deps.token);
  // Every JSON body is bounded in nesting before a route sees it: recursive code
  // (JSON.stringify, validators) would overflow the stack on input nested thousands deep.
  app.addHook('preValidation', async (req) => {
    if (req.body !== undefined && req.body !== null) assertJsonDepth(req.body, MAX_JSON_DEPTH);
  });
  healthRoutes(app, deps);
  jobRoutes(app, deps);
  chatRoutes(app, deps);
  metricsRoutes(app, deps);
  dashboardRoutes(app);
  coordRoutes(app, deps);
  memoryRoutes(app, deps);
  toolRoutes(app, deps);
  mcpRoutes(app, deps);
  eventRoutes(app, deps);
  landRoutes(app, deps);
  swarmRoutes(app, deps);
  // domain routes: add one line per route module here
  return app;
}
