import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/** Routes reachable without a token. */
const PUBLIC = new Set(['/health', '/favicon.ico']);

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** Bearer-token check on every route but /health (and the dashboard shell, which holds no data). */
export function installAuth(app: FastifyInstance, token: string): void {
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?', 1)[0]!;
    if (PUBLIC.has(path) || (req.method === 'GET' && (path === '/' || path.startsWith('/ui/')))) return;
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m || !safeEqual(m[1]!.trim(), token)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: { code: 'unauthorized', message: m ? 'invalid token' : 'missing bearer token' } });
    }
  });
}
