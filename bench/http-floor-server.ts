// The floor under a push to the hub, as a separate process like the hub: a bare node:http
// server and a bare fastify route on loopback, each answering a small JSON body. Prints
// {"node": url, "fastify": url} once both listen; exits when its stdin closes.
import { createServer } from 'node:http';
import Fastify from 'fastify';

const ANSWER = '{"inserted":1,"skipped":0,"cursor":"1"}';

const bare = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER));
});
await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));

const app = Fastify();
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post('/records', async (_req, reply) => reply.type('application/json').send(ANSWER));
await app.listen({ host: '127.0.0.1', port: 0 });

const port = (s: { address(): unknown }): number => (s.address() as { port: number }).port;
process.stdout.write(JSON.stringify({ node: `http://127.0.0.1:${port(bare)}`, fastify: `http://127.0.0.1:${port(app.server)}` }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
