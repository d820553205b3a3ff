import { existsSync, readFileSync } from 'node:fs';
import { ColonyError } from '../lib/errors.js';
import { colonyPaths } from '../daemon/paths.js';
import { resolveRepoRoot } from './repo.js';

/** A connection to a running daemon's HTTP API. */
export interface DaemonClient {
  url: string;
  token: string;
  repo: string | undefined;
  /** JSON request; a `{error: {message}}` answer is thrown as ColonyError with its code and status. */
  request<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  /** Raw fetch with auth, for streams. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/**
 * Find the daemon for a repository: COLONY_URL (+ COLONY_TOKEN) when set (how agents in a
 * job reach it), else `.colony/daemon.json` and `.colony/token` in the repository root.
 */
export function connectDaemon(repoFlag?: string): DaemonClient {
  let url = process.env.COLONY_URL;
  let token = process.env.COLONY_TOKEN;
  let repo: string | undefined;
  if (!url || repoFlag) {
    repo = resolveRepoRoot(repoFlag);
    const paths = colonyPaths(repo);
    if (!existsSync(paths.daemonInfo)) {
      throw new ColonyError('no_daemon', `no colony daemon running in ${repo}; start one with \`colony serve\``);
    }
    try {
      url = (JSON.parse(readFileSync(paths.daemonInfo, 'utf8')) as { url: string }).url;
    } catch {
      throw new ColonyError('no_daemon', `unreadable ${paths.daemonInfo}; restart the daemon with \`colony serve\``);
    }
    if (!token && existsSync(paths.token)) token = readFileSync(paths.token, 'utf8').trim();
  }
  return daemonClientAt(url!, token ?? '', repo);
}

/** An HTTP client of the daemon at `url` with `token` (what `connectDaemon` found, or a daemon the caller started). */
export function daemonClientAt(url: string, token: string, repo?: string): DaemonClient {
  const base = url.replace(/\/+$/, '');
  const auth = token;

  const doFetch = async (path: string, init: RequestInit = {}): Promise<Response> => {
    try {
      return await fetch(base + path, {
        ...init,
        headers: { authorization: `Bearer ${auth}`, ...(init.headers as Record<string, string> | undefined) },
      });
    } catch (err) {
      throw new ColonyError(
        'no_daemon',
        `cannot reach the colony daemon at ${base} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is \`colony serve\` running?`,
      );
    }
  };

  return {
    url: base,
    token: auth,
    repo,
    fetch: doFetch,
    async request(method, path, body) {
      const res = await doFetch(path, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      const text = await res.text();
      let parsed: any;
      try {
        parsed = text ? JSON.parse(text) : {};
      } catch {
        parsed = { error: { code: 'bad_response', message: text.slice(0, 200) } };
      }
      if (!res.ok) {
        const e = parsed?.error ?? {};
        throw new ColonyError(e.code ?? 'http_error', e.message ?? `HTTP ${res.status}`, res.status);
      }
      return parsed;
    },
  };
}
