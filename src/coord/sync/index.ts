import type { Logger } from '../../lib/log.js';
import { ColonyError } from '../../lib/errors.js';
import { loadIdentity, type Identity } from '../../hub/identity.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { CoordService } from '../service.js';
import { HubClient } from './hub-client.js';
import { pull, push, type PullResult, type PushResult } from './sync.js';

export { HubClient } from './hub-client.js';
export { push, pull, MAX_PUSH_BATCH, type PushResult, type PullResult } from './sync.js';

export interface SyncTarget {
  hubUrl: string;
  repoId: string;
  identityFile: string;
}

/** The colony's identity if it has one; unsigned otherwise (the hub must allow that). */
function identityOf(file: string): Identity | undefined {
  return existsSync(file) ? loadIdentity(file) : undefined;
}

/**
 * The colony's origin id when it has no key: made once and kept beside where the key would
 * be, so two unsigned colonies never share an origin (each would drop the other's records
 * as its own on pull).
 */
function unsignedOrigin(identityFile: string): string {
  const file = join(dirname(identityFile), 'origin');
  if (existsSync(file)) {
    const id = readFileSync(file, 'utf8').trim();
    if (/^unsigned-[0-9a-f]{16}$/.test(id)) return id;
  }
  const id = `unsigned-${randomBytes(8).toString('hex')}`;
  try {
    writeFileSync(file, id + '\n', { mode: 0o600, flag: 'wx' });
    return id;
  } catch (err) {
    // Another process made it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw err;
  }
}

export function syncClient(t: SyncTarget): { client: HubClient; origin: string } {
  if (!t.hubUrl) throw new ColonyError('no_hub', 'no hub configured: pass --hub <url> or set hub_url in .colony/config.json');
  if (!t.repoId) throw new ColonyError('no_repo_id', 'no repository id: pass --repo-id owner/slug or set repo_id in .colony/config.json');
  const identity = identityOf(t.identityFile);
  return { client: new HubClient({ hubUrl: t.hubUrl, repoId: t.repoId, identity }), origin: identity?.keyId ?? unsignedOrigin(t.identityFile) };
}

export async function syncOnce(coord: CoordService, t: SyncTarget): Promise<{ push: PushResult; pull: PullResult }> {
  const { client, origin } = syncClient(t);
  try {
    const pushed = await push(coord, client, { origin });
    const pulled = await pull(coord, client, { hub: t.hubUrl, repoId: t.repoId, ownOrigin: origin });
    return { push: pushed, pull: pulled };
  } finally {
    // A round's connections end with it: the next round may be minutes away.
    client.close();
  }
}

/** Keep a daemon in sync: push then pull every `everyS` seconds, never two rounds at once. */
export function startSyncLoop(coord: CoordService, t: SyncTarget, everyS: number, logger: Logger): () => void {
  let running = false;
  const round = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const r = await syncOnce(coord, t);
      if (r.push.inserted || r.pull.received) logger.info({ pushed: r.push.inserted, pulled: r.pull.received }, 'synced with hub');
      if (r.pull.refused) logger.warn({ refused: r.pull.refused, first: r.pull.refusals.slice(0, 5) }, 'hub records refused (not applied)');
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'hub sync failed; will retry');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void round(), everyS * 1000);
  timer.unref();
  void round();
  return () => clearInterval(timer);
}
