import type { Command } from 'commander';
import { colonyPaths, ensureColonyDir } from '../daemon/paths.js';
import { initIdentity, loadIdentity } from '../hub/identity.js';
import { printResult } from './output.js';
import { resolveRepoRoot } from './repo.js';

export function registerIdentity(program: Command): void {
  const identity = program.command('identity').description("this colony's ed25519 signing key, for the hub");
  identity
    .command('init')
    .description('create the key pair (.colony/identity.key, mode 0600) and print the public key')
    .option('--repo <dir>', 'repository')
    .option('--json', 'print JSON')
    .action((o) => {
      const paths = colonyPaths(resolveRepoRoot(o.repo));
      ensureColonyDir(paths);
      const { identity: id, created } = initIdentity(paths.identityKey);
      printResult(o.json, { key_id: id.keyId, public_key: id.publicKey, created }, (v) =>
        `${v.created ? 'created' : 'already had'} identity ${v.key_id}\npublic key: ${v.public_key}\nregister it: colony hub keys add <owner/slug> ${v.public_key} --db <url>`,
      );
    });
  identity
    .command('show')
    .description('print the key id and public key')
    .option('--repo <dir>', 'repository')
    .option('--json', 'print JSON')
    .action((o) => {
      const id = loadIdentity(colonyPaths(resolveRepoRoot(o.repo)).identityKey);
      printResult(o.json, { key_id: id.keyId, public_key: id.publicKey }, (v) => `${v.key_id} ${v.public_key}`);
    });
}
