// Swarms: start one (tasks as YAML/JSON, a goal for a planner, or the repository's open
// tasks), and the list with status and progress, live from `event: swarm` on the feed,
// paging beyond the newest 50 by cursor.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api } from '../lib/api.js';
import { attempt, notify } from '../lib/notices.js';
import { feed, onResync } from '../lib/feed.js';
import { useStore } from '../lib/store.js';
import { parseTasks } from '../lib/tasks.js';
import { ago } from '../lib/format.js';
import { useAgents } from './jobs.js';

const PAGE = 50;

const EXAMPLE = `tasks:
  - id: parser
    description: Add a parser for the config file
    reserve: [src/config.ts]
  - id: docs
    description: Document the config file in the README
    depends_on: [parser]
    reserve: [README.md]`;

export function SwarmStatus({ status }) {
  return html`<span class=${`badge swarm-${status}`}>${status}</span>`;
}

export function Progress({ summary, label }) {
  const { landed, total } = summary;
  return html`<span class="progress-line">
    <progress max=${Math.max(total, 1)} value=${landed} aria-label=${label}></progress>
    <span class="muted">${landed}/${total} landed</span>
  </span>`;
}

function StartForm() {
  const agents = useAgents();
  const [source, setSource] = useState('tasks');
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (ev) => {
    ev.preventDefault();
    const f = ev.currentTarget.elements;
    const body = { agents: Number(f.agents.value), max_attempts: Number(f.max_attempts.value) };
    if (f.swarm_agent.value) body.agent = f.swarm_agent.value;
    try {
      if (source === 'tasks') body.tasks = parseTasks(f.tasks.value);
      else if (source === 'plan') body.plan = f.plan.value.trim();
    } catch (err) {
      setProblem(err.message);
      f.tasks.focus();
      return;
    }
    setProblem(null);
    setBusy(true);
    const r = await attempt('Start swarm', () => api('/swarms', { method: 'POST', body }));
    setBusy(false);
    if (r) {
      notify(`Started swarm ${r.swarm_id}`, 'info');
      location.hash = `#swarm/${encodeURIComponent(r.swarm_id)}`;
    }
  };
  const radio = (value, label) =>
    html`<label><input type="radio" name="source" value=${value} checked=${source === value} onChange=${() => setSource(value)} /> ${label}</label>`;
  return html`<form class="card" onSubmit=${submit} aria-labelledby="start-title">
    <h2 id="start-title">Start a swarm</h2>
    <fieldset class="row">
      <legend class="sr-only">Work from</legend>
      ${radio('tasks', 'Tasks')} ${radio('plan', 'A goal (a planner splits it)')} ${radio('open', "The repository's open tasks")}
    </fieldset>
    ${source === 'tasks' &&
    html`<label for="tasks" class="sr-only">Tasks (YAML or JSON)</label>
      <textarea id="tasks" name="tasks" rows="9" class="mono" placeholder=${EXAMPLE} required aria-invalid=${problem ? 'true' : 'false'} aria-describedby="tasks-help tasks-error"></textarea>
      <p id="tasks-help" class="muted">YAML or JSON: a list of <code>description</code>, optional <code>id</code>, <code>depends_on</code> (ids), <code>reserve</code> (files, globs, <code>path::symbol</code>), <code>priority</code>.</p>
      ${problem && html`<p id="tasks-error" class="error" role="alert">${problem}</p>`}`}
    ${source === 'plan' &&
    html`<label for="plan" class="sr-only">Goal</label>
      <textarea id="plan" name="plan" rows="3" maxlength="16384" placeholder="What should the swarm achieve?" required></textarea>`}
    <div class="row">
      <label>agents <input name="agents" type="number" min="1" max="32" value="3" class="tiny" /></label>
      <label>agent <select name="swarm_agent">${agents.map((a) => html`<option value=${a}>${a}</option>`)}</select></label>
      <label>attempts <input name="max_attempts" type="number" min="1" max="10" value="2" class="tiny" /></label>
      <button disabled=${busy}>${busy ? 'Starting…' : 'Start swarm'}</button>
    </div>
  </form>`;
}

function SwarmRow({ s }) {
  return html`<li class="swarm-row" data-swarm=${s.swarm_id} data-status=${s.status}>
    <div class="job-head">
      <a class="mono" href=${`#swarm/${encodeURIComponent(s.swarm_id)}`}>${s.swarm_id}</a>
      <${SwarmStatus} status=${s.status} />
      <${Progress} summary=${s.summary} label=${`progress of ${s.swarm_id}`} />
      <span class="muted">${s.agents} × ${s.agent}</span>
      <span class="muted" title=${s.started_at ?? s.created_at}>${ago(s.started_at ?? s.created_at)}</span>
    </div>
    <p class="prompt">${s.goal ?? (s.source === 'open' ? "the repository's open tasks" : s.tasks.map((t) => t.key ?? t.description).join(' · '))}</p>
    ${s.error && html`<p class="error small">${s.error}</p>`}
  </li>`;
}

export function SwarmsView() {
  const { swarms: live, features } = useStore(feed);
  const [listed, setListed] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [loadingMore, setLoadingMore] = useState(false);
  // Bumped when the feed reconnects: a swarm that changed while it was away is read again.
  const [resyncs, setResyncs] = useState(0);
  const shown = useRef(0);
  shown.current = listed?.length ?? 0;
  const enabled = features?.swarms;
  useEffect(() => onResync(() => setResyncs((n) => n + 1)), []);
  useEffect(() => {
    if (!enabled) return undefined;
    let stale = false;
    attempt('Load swarms', async () => {
      // As many as are shown, so a reload keeps the older pages already loaded.
      const r = await api(`/swarms?limit=${Math.min(Math.max(shown.current, PAGE), 1000)}`);
      if (stale) return;
      setListed(r.swarms);
      setCursor(r.next_cursor);
    });
    return () => {
      stale = true;
    };
  }, [enabled, resyncs]);
  const more = async () => {
    setLoadingMore(true);
    await attempt('Load older swarms', async () => {
      const r = await api(`/swarms?limit=${PAGE}&cursor=${encodeURIComponent(cursor)}`);
      setListed((list) => {
        const have = new Set(list.map((s) => s.swarm_id));
        return [...list, ...r.swarms.filter((s) => !have.has(s.swarm_id))];
      });
      setCursor(r.next_cursor);
    });
    setLoadingMore(false);
  };
  if (features === null) return html`<p class="muted">Connecting…</p>`;
  if (!enabled) return html`<p class="empty card" data-state="unavailable">This daemon runs no swarms (<code>/swarms</code> is not served).</p>`;
  // The feed's views are newer than the list's, and name swarms started since.
  const merged = listed && [...new Map([...listed.map((s) => [s.swarm_id, s]), ...live]).values()].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
  return html`
    <${StartForm} />
    <section class="card" aria-labelledby="swarms-title">
      <h2 id="swarms-title">Swarms</h2>
      ${merged === null
        ? html`<p class="muted">Loading…</p>`
        : merged.length === 0
          ? html`<p class="empty">No swarm has run yet.</p>`
          : html`<ul class="swarms">${merged.map((s) => html`<${SwarmRow} key=${s.swarm_id} s=${s} />`)}</ul>`}
      ${cursor && html`<button class="more" onClick=${more} disabled=${loadingMore}>${loadingMore ? 'Loading…' : 'Load older swarms'}</button>`}
    </section>`;
}
