import { ColonyError } from '../lib/errors.js';

/** The parts of the swarm contract's SwarmView the demo reads. */
export interface SwarmTaskView {
  task_id: string;
  key: string | null;
  description: string;
  state: 'waiting' | 'ready' | 'running' | 'landing' | 'landed' | 'stuck' | 'cancelled';
  attempts: number;
  job_id: string | null;
  job_ids: string[];
  worker: number | null;
  reason: string | null;
}
export interface SwarmView {
  swarm_id: string;
  status: 'planning' | 'running' | 'completed' | 'failed' | 'cancelled';
  error: string | null;
  tasks: SwarmTaskView[];
  summary: { total: number; landed: number; stuck: number; wall_ms: number };
}
export interface QueueEntryView {
  id: string;
  job_id: string;
  status: string;
  evidence: { kind: string; files?: string[] } | null;
  follow_up: { job_id?: string } | null;
}

export const TERMINAL = new Set<SwarmView['status']>(['completed', 'failed', 'cancelled']);

/** The demo's HTTP client of its daemon (bearer token, JSON, errors as ColonyError). */
export class DemoClient {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.url + path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const msg = (parsed as { error?: { message?: string } } | undefined)?.error?.message ?? text;
      throw new ColonyError('demo_http', `${method} ${path}: ${res.status} ${msg}`);
    }
    return parsed as T;
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
