// Jobs: queue a job, the list with live status, paging beyond the first 50 by cursor.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api } from '../lib/api.js';
import { attempt, notify } from '../lib/notices.js';
import { onJobTransition } from '../lib/feed.js';
import { ACTIVE, ago, diffStat } from '../lib/format.js';

const PAGE = 50;
const STATUSES = ['queued', 'preparing', 'running', 'completed', 'failed', 'timed_out', 'cancelled'];

export function StatusBadge({ status }) {
  return html`<span class=${`badge status-${status}`}>${status.replace('_', ' ')}</span>`;
}

export function cancelJob(id) {
  return attempt(`Cancel ${id}`, async () => {
    const r = await api(`/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
    // A running job stops once its process group is gone; the list shows when.
    notify(`${id}: ${r.status === 'cancelled' ? 'cancelled' : 'cancelling…'}`, 'info');
    return r;
  });
}

/** The daemon's configured agents (from /v1/models), for the forms' agent choice. */
export function useAgents() {
  const [agents, setAgents] = useState([]);
  useEffect(() => {
    attempt('Load agents', async () => {
      const models = await api('/v1/models');
      setAgents([...new Set(models.data.filter((m) => m.id.startsWith('colony/')).map((m) => m.id.slice(7)))]);
    });
  }, []);
  return agents;
}

function RunForm() {
  const agents = useAgents();
  const [busy, setBusy] = useState(false);
  const submit = async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    const prompt = form.elements.prompt.value;
    if (!prompt.trim()) return;
    setBusy(true);
    const r = await attempt('Queue job', () => api('/execute', { method: 'POST', body: { prompt, agent: form.elements.agent.value || undefined } }));
    setBusy(false);
    if (r) {
      form.elements.prompt.value = '';
      notify(`Queued ${r.job_id}${r.position ? ` (position ${r.position})` : ''}`, 'info');
    }
  };
  return html`<form class="card" onSubmit=${submit} aria-labelledby="run-title">
    <h2 id="run-title">Run a job</h2>
    <label for="prompt" class="sr-only">Prompt</label>
    <textarea id="prompt" name="prompt" rows="3" placeholder="What should the agent do?" required></textarea>
    <div class="row">
      <label for="agent">Agent</label>
      <select id="agent" name="agent">${agents.map((a) => html`<option value=${a}>${a}</option>`)}</select>
      <button disabled=${busy}>Queue</button>
    </div>
  </form>`;
}

function JobRow({ job }) {
  return html`<li class="job" data-job=${job.id} data-status=${job.status}>
    <div class="job-head">
      <a class="mono" href=${`#job/${job.id}`}>${job.id}</a>
      <${StatusBadge} status=${job.status} />
      <span class="muted">${job.agent}${job.model ? ` · ${job.model}` : ''}</span>
      <span class="muted" title=${job.created_at}>${ago(job.created_at)}</span>
      ${job.diff_stat && html`<span class="muted">${diffStat(job.diff_stat)}</span>`}
    </div>
    <p class="prompt">${job.prompt}</p>
    ${job.error && html`<p class=${job.status === 'cancelled' ? 'muted' : 'error small'}>${job.error}</p>`}
    <div class="actions">
      <a class="button" href=${`#job/${job.id}`} aria-label=${`events of ${job.id}`}>events</a>
      ${ACTIVE.has(job.status) && html`<button onClick=${() => cancelJob(job.id)} aria-label=${`cancel ${job.id}`}>cancel</button>`}
    </div>
  </li>`;
}

export function JobsView() {
  const [status, setStatus] = useState('');
  const [jobs, setJobs] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const jobsRef = useRef([]);
  jobsRef.current = jobs ?? [];

  const query = (c) => `/jobs?limit=${PAGE}${status ? `&status=${status}` : ''}${c ? `&cursor=${encodeURIComponent(c)}` : ''}`;

  useEffect(() => {
    let stale = false;
    let timer;
    let refreshFirst = false;
    const changed = new Set();
    setJobs(null);
    attempt('Load jobs', async () => {
      const page = await api(query());
      if (stale) return;
      setJobs(page.jobs);
      setCursor(page.next_cursor);
    });
    // Transitions of listed jobs re-read those jobs; an unknown job means new ones on top.
    const flush = () =>
      attempt('Update jobs', async () => {
        const ids = [...changed];
        changed.clear();
        const fresh = await Promise.all(ids.map((id) => api(`/jobs/${encodeURIComponent(id)}`).catch(() => undefined)));
        const byId = new Map(fresh.filter(Boolean).map((j) => [j.id, j]));
        let first = null;
        if (refreshFirst) {
          refreshFirst = false;
          first = await api(query());
        }
        if (stale) return;
        setJobs((list) => {
          let next = (list ?? []).map((j) => byId.get(j.id) ?? j);
          if (first) {
            const top = new Set(first.jobs.map((j) => j.id));
            next = [...first.jobs, ...next.filter((j) => !top.has(j.id) && j.created_at <= (first.jobs.at(-1)?.created_at ?? ''))];
          }
          return status ? next.filter((j) => j.status === status) : next;
        });
        if (first && jobsRef.current.length <= PAGE) setCursor(first.next_cursor);
      });
    const off = onJobTransition((e) => {
      if (e.resync) {
        refreshFirst = true;
        for (const j of jobsRef.current) if (ACTIVE.has(j.status)) changed.add(j.id);
      } else if (jobsRef.current.some((j) => j.id === e.job_id)) changed.add(e.job_id);
      else if (!status || e.status === status) refreshFirst = true;
      else return;
      clearTimeout(timer);
      timer = setTimeout(flush, 100);
    });
    return () => {
      stale = true;
      off();
      clearTimeout(timer);
    };
  }, [status]);

  const more = async () => {
    setLoadingMore(true);
    await attempt('Load more jobs', async () => {
      const page = await api(query(cursor));
      setJobs((list) => {
        const have = new Set(list.map((j) => j.id));
        return [...list, ...page.jobs.filter((j) => !have.has(j.id))];
      });
      setCursor(page.next_cursor);
    });
    setLoadingMore(false);
  };

  return html`
    <${RunForm} />
    <section class="card" aria-labelledby="jobs-title">
      <div class="row spread">
        <h2 id="jobs-title">Jobs ${jobs && html`<span class="muted">(${jobs.length}${cursor ? '+' : ''})</span>`}</h2>
        <label>Status <select value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
          <option value="">all</option>
          ${STATUSES.map((s) => html`<option value=${s}>${s.replace('_', ' ')}</option>`)}
        </select></label>
      </div>
      ${jobs === null
        ? html`<p class="muted">Loading…</p>`
        : jobs.length === 0
          ? html`<p class="muted">No jobs${status ? ` ${status.replace('_', ' ')}` : ''} yet.</p>`
          : html`<ul class="jobs">${jobs.map((j) => html`<${JobRow} key=${j.id} job=${j} />`)}</ul>`}
      ${cursor && html`<button class="more" onClick=${more} disabled=${loadingMore}>${loadingMore ? 'Loading…' : 'Load older jobs'}</button>`}
    </section>`;
}
