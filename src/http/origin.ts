import type { FastifyInstance } from 'fastify';

/** Host names that always mean this machine. */
const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];
/** Bind addresses that listen on every interface: the Host name cannot be pinned then. */
const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

const bracketed = (host: string): string => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

function normaliseOrigin(o: string): string | undefined {
  try {
    const u = new URL(o);
    return u.origin === 'null' ? undefined : u.origin;
  } catch {
    return undefined;
  }
}

/**
 * Refuse requests a browser was tricked into sending (DNS rebinding, cross-site pages), as
 * the MCP specification asks of Streamable HTTP servers: the Host header must name the bound
 * address or the loopback at the bound port, and an Origin header, when present, must be the
 * daemon's own origin or one of `allowedOrigins`. Clients that are not browsers (the CLI,
 * SDKs, curl) send no Origin and pass. Runs before auth, so a foreign page learns nothing.
 */
export function installOriginCheck(app: FastifyInstance, opts: { host: string; allowedOrigins: readonly string[] }): void {
  const extra = new Set(opts.allowedOrigins.map(normaliseOrigin).filter((o): o is string => !!o));
  const names = new Set([...LOOPBACK, bracketed(opts.host).toLowerCase()]);
  const anyHost = WILDCARD.has(opts.host);
  const port = (): number => {
    const a = app.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  };
  // A browser leaves the port out of Host when it is the scheme's default.
  const isOwnHost = (host: string, p: number): boolean => [...names].some((n) => host === `${n}:${p}` || (p === 80 && host === n));
  const forbidden = (message: string) => ({ error: { code: 'forbidden', message } });

  app.addHook('onRequest', async (req, reply) => {
    const p = port();
    const host = (req.headers.host ?? '').toLowerCase();
    if (!anyHost) {
      const allowed = isOwnHost(host, p) || [...extra].some((o) => host === new URL(o).host);
      if (!allowed) return reply.code(403).send(forbidden(`Host '${host.slice(0, 100)}' is not this daemon (expected 127.0.0.1:${p} or localhost:${p})`));
    }
    const origin = req.headers.origin;
    if (origin === undefined) return;
    const o = normaliseOrigin(origin);
    const own = o !== undefined && new URL(o).protocol === 'http:' && new URL(o).host === host && (anyHost || isOwnHost(host, p));
    if (!own && !(o !== undefined && extra.has(o))) {
      return reply.code(403).send(forbidden(`Origin '${origin.slice(0, 100)}' is not allowed; add it to allowed_origins to let that page call Colony`));
    }
  });
}
