// One swarm: progress, its summary with the planner jobs of a plan-mode swarm, and its tasks
// as a board by state — each card with the tasks it waits for and the worker and job on it —
// followed live over GET /swarms/:id/events (the whole view on every change) until the swarm ends.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, follow } from '../lib/api.js';
import { attempt, notify } from '../lib/notices.js';
import { plural } from '../lib/format.js';
import { Progress, SwarmStatus } from './swarms.js';

const COLUMNS = [
  ['waiting', 'Waiting', ['waiting']],
  ['ready', 'Ready', ['ready']],
  ['running', 'Running', ['running']],
  ['landing', 'Landing', ['landing']],
  ['landed', 'Landed', ['landed']],
  ['stuck', 'Stuck · cancelled', ['stuck', 'cancelled']],
];
const ENDED = new Set(['completed', 'failed', 'cancelled']);

function wall(ms) {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)}m ${s % 60}s`;
}

const name = (t) => t.key ?? t.description;

function TaskCard({ t, byId, agent }) {
  return html`<li class=${`task task-${t.state}`} data-task=${t.task_id} data-state=${t.state}>
    <p class="task-title">${t.key && html`<span class="mono">${t.key}</span> `}${t.description}</p>
    ${t.depends_on.length > 0 &&
    html`<p class="small">after ${t.depends_on.map((id) => {
      const dep = byId.get(id);
      return html` <span class=${`chip dep ${dep?.state === 'landed' ? 'done' : ''}`} title=${dep?.description ?? id}>${dep ? name(dep) : id}${dep?.state === 'landed' ? ' ✓' : ''}</span>`;
    })}</p>`}
    ${t.reserve.length > 0 && html`<ul class="chips">${t.reserve.map((r) => html`<li class="chip mono">${r}</li>`)}</ul>`}
    ${(t.worker !== null || t.job_id) &&
    html`<p class="small muted">${[
      t.worker !== null && html`<span class="worker">worker ${t.worker} · ${agent}</span>`,
      t.job_id && html`<a class="mono" href=${`#job/${encodeURIComponent(t.job_id)}`} aria-label=${`job ${t.job_id} of ${name(t)}`}>${t.job_id}</a>`,
      t.attempts > 1 && `attempt ${t.attempts}`,
      t.job_ids.length > 1 && plural(t.job_ids.length, 'job'),
    ]
      .filter(Boolean)
      .map((part, i) => html`${i > 0 ? ' · ' : ''}${part}`)}</p>`}
    ${t.reason && html`<p class=${`small ${t.state === 'stuck' ? 'error' : 'muted'}`}>${t.reason}</p>`}
  </li>`;
}

function Board({ swarm }) {
  const byId = new Map(swarm.tasks.map((t) => [t.task_id, t]));
  return html`<div class="board">
    ${COLUMNS.map(([id, label, states]) => {
      const tasks = swarm.tasks.filter((t) => states.includes(t.state));
      return html`<section class="column" data-column=${id} aria-labelledby=${`col-${id}`}>
        <h3 id=${`col-${id}`}>${label} <span class="muted">${tasks.length}</span></h3>
        <ul class="tasks">${tasks.map((t) => html`<${TaskCard} key=${t.task_id} t=${t} byId=${byId} agent=${swarm.agent} />`)}</ul>
      </section>`;
    })}
  </div>`;
}

/** Every planner job of a plan-mode swarm, oldest first (a failed one was followed by another). */
function PlannerJobs({ ids }) {
  if (!ids?.length) return null;
  return html`<p class="small muted planner-jobs">${ids.length > 1 ? `${ids.length} planner jobs` : 'planner job'}:
    ${ids.map(
      (id, i) =>
        html`${i > 0 ? ' · ' : ''}<a class="mono" href=${`#job/${encodeURIComponent(id)}`} aria-label=${`planner job ${id}${ids.length > 1 ? ` (attempt ${i + 1})` : ''}`}>${id}</a>`,
    )}</p>`;
}

function Summary({ swarm }) {
  const s = swarm.summary;
  const cancel = () =>
    attempt(`Cancel swarm ${swarm.swarm_id}`, async () => {
      await api(`/swarms/${encodeURIComponent(swarm.swarm_id)}/cancel`, { method: 'POST' });
      notify(`Swarm ${swarm.swarm_id}: cancelling`, 'info');
    });
  const rows = [
    ['landed', `${s.landed} of ${s.total}`],
    ['running', s.running],
    ['waiting', s.waiting],
    ['stuck', s.stuck],
    ['failed attempts', s.failed_attempts],
    ['cost', `$${s.cost_usd.toFixed(4)}`],
    ['tokens', `${s.input_tokens.toLocaleString()} in · ${s.output_tokens.toLocaleString()} out`],
    ['wall time', wall(s.wall_ms)],
    ['agents', `${swarm.agents} × ${swarm.agent}${swarm.model ? ` · ${swarm.model}` : ''}`],
    ['attempts per task', swarm.max_attempts],
  ];
  return html`<section class="card" aria-labelledby="swarm-title">
    <div class="row spread">
      <h2 id="swarm-title"><span class="mono">${swarm.swarm_id}</span> <${SwarmStatus} status=${swarm.status} /></h2>
      ${!ENDED.has(swarm.status) && html`<button onClick=${cancel}>Cancel swarm</button>`}
    </div>
    ${swarm.goal && html`<p class="prompt full">${swarm.goal}</p>`}
    <${Progress} summary=${s} label="tasks landed" />
    ${swarm.status === 'planning' && html`<p class="muted">A planner is splitting the goal into tasks.</p>`}
    <${PlannerJobs} ids=${swarm.planner_job_ids} />
    ${swarm.error && html`<p class="error" role="status">${swarm.error}</p>`}
    <dl class="facts summary">${rows.map(([k, v]) => html`<dt>${k}</dt><dd data-fact=${k}>${v}</dd>`)}</dl>
  </section>`;
}

export function SwarmView({ id }) {
  const [swarm, setSwarm] = useState(null);
  const [missing, setMissing] = useState(null);
  useEffect(() => {
    let stale = false;
    setSwarm(null);
    setMissing(null);
    let ended = false;
    // The stream sends the whole view at connect and on each change, and ends with the swarm.
    const stop = follow(`/swarms/${encodeURIComponent(id)}/events`, {
      onEvent: ({ event, data }) => {
        if (stale || event !== 'swarm') return;
        ended = ENDED.has(data.status);
        setSwarm(data);
      },
      onEnd: () => !ended,
      onState: (state, err) => {
        if (!stale && state === 'refused') setMissing(err.status === 404 ? err.message : `Swarm ${id}: ${err.message}`);
      },
    });
    return () => {
      stale = true;
      stop();
    };
  }, [id]);
  return html`
    <p><a href="#swarms">← all swarms</a></p>
    ${missing
      ? html`<p class="error" role="alert">${missing}</p>`
      : swarm
        ? html`<${Summary} swarm=${swarm} />
            <section class="card" aria-labelledby="board-title">
              <h2 id="board-title">Tasks <span class="muted">${swarm.tasks.length}</span></h2>
              ${swarm.tasks.length === 0 ? html`<p class="empty">No tasks yet.</p>` : html`<${Board} swarm=${swarm} />`}
            </section>`
        : html`<p class="muted">Loading…</p>`}`;
}
