import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Only its own scripts and styles; `importmap` is the shell's one inline script, allowed by hash. */
const csp = (importMapHash: string): string =>
  `default-src 'self'; script-src 'self' '${importMapHash}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'`;

/** The UI libraries, served as the ES modules their packages ship (no bundler, no CDN). */
const VENDOR: Record<string, [pkg: string, file: string]> = {
  'vendor/preact.mjs': ['preact', 'dist/preact.mjs'],
  'vendor/hooks.mjs': ['preact', 'hooks/dist/hooks.mjs'],
  'vendor/htm.mjs': ['htm', 'dist/htm.mjs'],
};
/** Libraries shipped as a tree of ES modules: the whole folder, under vendor/<name>/. */
const VENDOR_TREES: Record<string, [pkg: string, dir: string]> = {
  'vendor/yaml/': ['yaml', 'browser/dist'],
};

interface Asset {
  type: string;
  body: Buffer;
}

function webFiles(root: string, prefix = '', dir = root, out = new Map<string, Asset>()): Map<string, Asset> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) webFiles(root, prefix, path, out);
    else if (TYPES[extname(entry.name)]) out.set(prefix + relative(root, path).split(sep).join('/'), { type: TYPES[extname(entry.name)]!, body: readFileSync(path) });
  }
  return out;
}

/** A package's root: up from its entry point (not every package exports its package.json). */
function packageDir(pkg: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(pkg));
  while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== pkg) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the ${pkg} package`);
    dir = up;
  }
  return dir;
}

function vendorFiles(): Map<string, Asset> {
  const out = new Map(
    Object.entries(VENDOR).map(([name, [pkg, file]]) => [name, { type: TYPES['.mjs']!, body: readFileSync(join(packageDir(pkg), file)) }]),
  );
  for (const [prefix, [pkg, dir]] of Object.entries(VENDOR_TREES)) webFiles(join(packageDir(pkg), dir), prefix, join(packageDir(pkg), dir), out);
  return out;
}

/**
 * The dashboard shell and its assets. They hold no data (every data call needs the token),
 * which is why auth lets GET /, /ui/* and /favicon.ico through. Files are read once at start,
 * and only those names are served, so no request path reaches the file system.
 */
export function dashboardRoutes(app: FastifyInstance): void {
  const files = new Map([...webFiles(join(PACKAGE_ROOT, 'web')), ...vendorFiles()]);
  const index = files.get('index.html')!;
  const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(index.body.toString('utf8'));
  if (!importMap) throw new Error('web/index.html has no import map');
  const policy = csp(`sha256-${createHash('sha256').update(importMap[1]!).digest('base64')}`);
  // The shell may not be framed (clickjacking) and loads only its own scripts and styles.
  app.addHook('onSend', async (req, reply) => {
    const path = req.url.split('?', 1)[0]!;
    if (path === '/' || path.startsWith('/ui/')) {
      void reply.header('content-security-policy', policy).header('x-frame-options', 'DENY').header('x-content-type-options', 'nosniff');
    }
  });
  const icon = files.get('favicon.svg')!;
  app.get('/', async (_req, reply) => reply.type(index.type).header('cache-control', 'no-cache').send(index.body));
  app.get('/favicon.ico', async (_req, reply) => reply.type(icon.type).header('cache-control', 'max-age=86400').send(icon.body));
  app.get('/ui/*', async (req, reply) => {
    const file = (req.params as { '*': string })['*'];
    const asset = file === 'index.html' ? undefined : files.get(file);
    if (!asset) return reply.code(404).send({ error: { code: 'not_found', message: `no asset ${file}` } });
    return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body);
  });
}
