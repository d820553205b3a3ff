import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnColony } from '../../bench/colony-process.js';
import { colony, colonyJson } from '../helpers/cli.js';
import { api, TEST_TOKEN } from '../helpers/daemon.js';
import { makeTempRepo } from '../helpers/repo.js';

describe('daemons of different repositories side by side', () => {
  it('two daemons started without a port both serve, each on its own port recorded in daemon.json', async () => {
    const a = makeTempRepo();
    const b = makeTempRepo();
    const env = { COLONY_TOKEN: TEST_TOKEN, COLONY_PORT: '' };
    const da = await spawnColony(['serve', '--repo', a.dir], env);
    const db = await spawnColony(['serve', '--repo', b.dir], env);
    try {
      expect(da.url).not.toBe(db.url);
      for (const [repo, d] of [[a.dir, da], [b.dir, db]] as const) {
        const info = JSON.parse(readFileSync(join(repo, '.colony', 'daemon.json'), 'utf8')) as { url: string };
        expect(info.url).toBe(d.url);
        expect((await api(d.url, 'GET', '/health')).body.status).toBe('ok');
      }
      // Each repository's CLI reaches its own daemon.
      await colonyJson(['coord', 'reserve', 'src/a.ts', '--run', 'ra'], a.dir, { COLONY_TOKEN: TEST_TOKEN });
      expect((await colonyJson(['coord', 'check', 'src/a.ts'], a.dir, { COLONY_TOKEN: TEST_TOKEN })).holders).toHaveLength(1);
      expect((await colonyJson(['coord', 'check', 'src/a.ts'], b.dir, { COLONY_TOKEN: TEST_TOKEN })).holders).toHaveLength(0);
    } finally {
      await da.stop();
      await db.stop();
      a.cleanup();
      b.cleanup();
    }
  });

  it('an explicitly configured port that is taken is an error naming it', async () => {
    const a = makeTempRepo();
    const b = makeTempRepo();
    const da = await spawnColony(['serve', '--repo', a.dir, '--port', '0'], { COLONY_TOKEN: TEST_TOKEN });
    try {
      const port = new URL(da.url).port;
      const r = await colony(['serve', '--repo', b.dir, '--port', port], b.dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      await da.stop();
      a.cleanup();
      b.cleanup();
    }
  });

  it('colony mcp reports why the daemon it started could not start, instead of waiting for it', async () => {
    const repo = makeTempRepo();
    try {
      mkdirSync(join(repo.dir, '.colony'), { recursive: true });
      writeFileSync(join(repo.dir, '.colony', 'config.json'), JSON.stringify({ default_agent: 'nobody' }));
      const r = await colony(['mcp'], repo.dir, { input: '' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/the colony daemon for .* exited with code 1:\ncolony: default_agent 'nobody' is not configured/);
      expect(r.stderr).toContain(join(repo.dir, '.colony', 'daemon.log'));
    } finally {
      repo.cleanup();
    }
  });
});
