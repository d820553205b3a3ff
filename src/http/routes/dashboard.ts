import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import type { FastifyInstance } from 'fastify';

const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/**
 * The dashboard shell and its assets. They hold no data (every data call needs the token),
 * which is why auth lets GET / and /ui/* through. Files are read once at start.
 */
export function dashboardRoutes(app: FastifyInstance): void {
  // The shell may not be framed (clickjacking) and loads only its own scripts and styles.
  app.addHook('onSend', async (req, reply) => {
    const path = req.url.split('?', 1)[0]!;
    if (path === '/' || path.startsWith('/ui/')) {
      void reply.header('content-security-policy', CSP).header('x-frame-options', 'DENY').header('x-content-type-options', 'nosniff');
    }
  });
  const files = new Map(Object.keys(ASSETS).map((f) => [f, readFileSync(join(PACKAGE_ROOT, 'web', f))]));
  app.get('/', async (_req, reply) => reply.type(ASSETS['index.html']!).send(files.get('index.html')));
  app.get('/ui/:file', async (req, reply) => {
    const { file } = req.params as { file: string };
    const body = files.get(file);
    if (!body || file === 'index.html') return reply.code(404).send({ error: { code: 'not_found', message: `no asset ${file}` } });
    return reply.type(ASSETS[file]!).send(body);
  });
}
