import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AppDeps } from './deps.js';
import { installAuth } from './auth.js';
import { installOriginCheck } from './origin.js';
import { errorHandler } from './errors.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { chatRoutes } from './routes/chat.js';
import { metricsRoutes } from './routes/metrics.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { toolRoutes } from './routes/tools.js';
import { coordRoutes } from './routes/coord.js';
import { mcpRoutes } from './routes/mcp.js';
import { memoryRoutes } from './routes/memory.js';
import { landRoutes } from './routes/land.js';

/** The daemon's HTTP API: one route module per domain, auth and error shape shared. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Per-request logs would drown the job logs; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // Prompts may be up to max_prompt_bytes; leave room for the JSON around them.
    bodyLimit: deps.config.max_prompt_bytes + 64 * 1024,
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });
  installOriginCheck(app, { host: deps.config.host, allowedOrigins: deps.config.allowed_origins });
  installAuth(app, deps.token);
  healthRoutes(app, deps);
  jobRoutes(app, deps);
  chatRoutes(app, deps);
  metricsRoutes(app, deps);
  dashboardRoutes(app);
  coordRoutes(app, deps);
  memoryRoutes(app, deps);
  toolRoutes(app, deps);
  mcpRoutes(app, deps);
  landRoutes(app, deps);
  // domain routes: add one line per route module here
  return app;
}
