import type { Command } from 'commander';
import { InvalidInputError } from '../lib/errors.js';
import { createLogger } from '../lib/log.js';
import { openHubStore, type HubStore } from '../hub/store.js';
import { buildHub } from '../hub/server.js';
import { keyIdOf, parsePublicKey } from '../hub/identity.js';
import { printResult, table } from './output.js';

const DEFAULT_DB = 'sqlite:hub.db';
const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\/[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

async function withStore<T>(url: string, fn: (s: HubStore) => Promise<T>): Promise<T> {
  const store = await openHubStore(url);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function registerHub(program: Command): void {
  const hub = program.command('hub').description('the hub that colonies on several machines sync through');
  hub
    .command('serve')
    .description('run a hub (SQLite by default, PostgreSQL for real deployments)')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port', '7430')
    .option('--db <url>', 'sqlite:<path> or postgres://…', DEFAULT_DB)
    .option('--allow-unsigned', 'accept unsigned requests (local experiments only)')
    .option('--json', 'print the listening address as JSON once ready')
    .action(async (o) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidInputError(`--port must be 0–65535, got '${o.port}'`);
      const logger = createLogger();
      const store = await openHubStore(o.db);
      if (o.allowUnsigned) process.stderr.write('colony hub: WARNING: --allow-unsigned: accepting unsigned requests; for local experiments only\n');
      const app = buildHub({ store, logger, allowUnsigned: !!o.allowUnsigned });
      await app.listen({ host: o.host, port });
      const addr = app.server.address();
      const url = `http://${o.host}:${typeof addr === 'object' && addr ? addr.port : port}`;
      const stop = (): void => {
        void app.close().then(() => store.close()).then(() => process.exit(0));
      };
      // SIGHUP (its terminal closed) as well: close the store cleanly rather than die at once.
      // Before the address is printed: whoever waits for it may signal at once.
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
      if (o.json) process.stdout.write(JSON.stringify({ url, backend: store.kind }) + '\n');
      else process.stderr.write(`colony hub: serving at ${url} (${store.kind})\n`);
      await new Promise<never>(() => undefined);
    });
  const keys = hub.command('keys').description('keys allowed to write to a repository');
  keys
    .command('add')
    .description('register a colony’s public key for a repository')
    .argument('<owner/slug>')
    .argument('<public_key>', 'from `colony identity show`')
    .option('--name <name>', 'a label')
    .option('--db <url>', 'hub database', DEFAULT_DB)
    .option('--json', 'print JSON')
    .action(async (repo: string, publicKey: string, o) => {
      if (!REPO_ID.test(repo)) throw new InvalidInputError(`'${repo}' must look like owner/slug`);
      parsePublicKey(publicKey);
      const keyId = keyIdOf(publicKey);
      await withStore(o.db, (s) => s.addKey(repo, publicKey, keyId, o.name));
      printResult(o.json, { key_id: keyId, repo }, (v) => `added key ${v.key_id} for ${v.repo}`);
    });
  keys
    .command('ls')
    .description('list keys')
    .argument('[owner/slug]')
    .option('--db <url>', 'hub database', DEFAULT_DB)
    .option('--json', 'print JSON')
    .action(async (repo: string | undefined, o) => {
      const list = await withStore(o.db, (s) => s.listKeys(repo));
      printResult(o.json, { keys: list }, (v) =>
        v.keys.length ? table([['KEY', 'REPO', 'NAME', 'ADDED'], ...v.keys.map((k: any) => [k.key_id, k.repo, k.name ?? '', k.created_at])]) : 'no keys',
      );
    });
  keys
    .command('rm')
    .description('remove a key')
    .argument('<key_id>')
    .option('--db <url>', 'hub database', DEFAULT_DB)
    .option('--json', 'print JSON')
    .action(async (keyId: string, o) => {
      const removed = await withStore(o.db, (s) => s.removeKey(keyId));
      printResult(o.json, { removed }, (v) => (v.removed ? `removed ${keyId}` : `no key ${keyId}`));
      if (!removed) process.exitCode = 1;
    });
}
