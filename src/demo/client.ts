import { daemonClientAt, type DaemonClient } from '../cli/client.js';
import type { Entry } from '../land/index.js';
import type { SwarmView } from '../swarm/index.js';

/** The parts of a merge-queue entry the demo reads. */
export type QueueEntryView = Pick<Entry, 'id' | 'job_id' | 'status' | 'evidence' | 'follow_up'>;

/** The demo's HTTP client of the daemon it started (the CLI's client: bearer token, JSON, errors as ColonyError). */
export class DemoClient {
  private readonly http: DaemonClient;

  constructor(url: string, token: string) {
    this.http = daemonClientAt(url, token);
  }

  call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    return this.http.request<T>(method, path, body);
  }

  swarm(id: string): Promise<SwarmView> {
    return this.call('GET', `/swarms/${encodeURIComponent(id)}`);
  }

  async queue(): Promise<QueueEntryView[]> {
    return (await this.call<{ entries: QueueEntryView[] }>('GET', '/merge-queue?limit=100')).entries;
  }

  async memories(): Promise<number> {
    const s = await this.call<{ scopes: { scope: string; count: number }[] }>('POST', '/memory/stats', {});
    // What the agents learned about the project (their rendezvous notes are kept in another scope).
    return s.scopes.find((x) => x.scope === 'repo')?.count ?? 0;
  }
}
