// One job: its record, kept current, and its events rendered for reading (agent text, tool
// calls and their results, the final result, log lines), followed live until the job ends.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, follow } from '../lib/api.js';
import { attempt, notify } from '../lib/notices.js';
import { onJobTransition, feed } from '../lib/feed.js';
import { useStore } from '../lib/store.js';
import { ACTIVE, diffStat, duration, usageText } from '../lib/format.js';
import { StatusBadge, cancelJob } from './jobs.js';

const FINISHED = new Set(['completed', 'failed', 'timed_out', 'cancelled']);
const CLIP = 600;
/** Events rendered at first, and how many more each "earlier events" press adds: a long run's whole log would slow every update. */
const SHOWN = 500;

const time = (iso) => new Date(iso).toLocaleTimeString();

function Clipped({ text }) {
  if (text.length <= CLIP) return html`<span class="pre">${text}</span>`;
  return html`<details><summary class="pre">${text.slice(0, CLIP)}… (${text.length.toLocaleString()} characters)</summary><span class="pre">${text}</span></details>`;
}

/** Tool input in one line: the argument a person looks for first, then the rest on demand. */
function toolSummary(input) {
  if (!input || typeof input !== 'object') return input === undefined ? '' : String(input);
  const key = ['file_path', 'path', 'command', 'pattern', 'url', 'query'].find((k) => typeof input[k] === 'string');
  return key ? input[key] : '';
}

function contentText(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((c) => (typeof c === 'string' ? c : c?.text ?? JSON.stringify(c))).join('\n');
  return content === undefined ? '' : JSON.stringify(content, null, 2);
}

function AgentEvent({ d }) {
  switch (d.type) {
    case 'init':
      return html`<span class="muted">session started${d.model ? ` · ${d.model}` : ''}</span>`;
    case 'text':
      return html`<${Clipped} text=${d.text ?? ''} />`;
    case 'tool_use':
      return html`<details class="tool"><summary><span class="tool-name">⚙ ${d.name}</span> <span class="mono">${toolSummary(d.input)}</span></summary><pre>${JSON.stringify(d.input, null, 2)}</pre></details>`;
    case 'tool_result':
      return html`<div class=${d.is_error ? 'tool-result error' : 'tool-result'}>↳ <${Clipped} text=${contentText(d.content) || '(no output)'} /></div>`;
    case 'result':
      return html`<div class=${d.is_error ? 'final error' : 'final'}>
        <strong>${d.is_error ? 'Failed' : 'Result'}</strong> <${Clipped} text=${d.text ?? ''} />
        ${d.usage && html`<div class="muted">${usageText({ ...d.usage, total_cost_usd: d.cost_usd ?? d.usage.total_cost_usd })}</div>`}
      </div>`;
    default:
      return html`<span class="mono">${JSON.stringify(d)}</span>`;
  }
}

function EventLine({ e, raw }) {
  const d = e.data;
  if (raw) return html`<li class="event raw"><time datetime=${e.at}>${time(e.at)}</time><pre>${JSON.stringify(e, null, 2)}</pre></li>`;
  let body;
  let kind = e.type;
  if (e.type === 'status') {
    body = html`<${StatusBadge} status=${d.status} />${d.error && html` <span class="error">${d.error}</span>`}`;
  } else if (e.type === 'log') {
    kind = `log ${d.stream}`;
    body = html`<span class="mono">${d.line}</span>`;
  } else {
    kind = `agent ${d.type}`;
    body = html`<${AgentEvent} d=${d} />`;
  }
  return html`<li class=${`event ${kind}`}><time datetime=${e.at}>${time(e.at)}</time><div>${body}</div></li>`;
}

/** What landing knows of the job: its merge-queue entry, task, reservations, and the job it follows up. */
function landingRows(l) {
  if (!l) return [];
  const e = l.entry;
  const w = l.waiting_for;
  return [
    ['merge queue', e && html`<a href="#merge-queue"><span class=${`badge mq-${e.status}`}>${e.status.replace('_', ' ')}</span></a>${e.position ? ` #${e.position}` : ''}${e.landed_commit ? html` as <span class="mono">${e.landed_commit.slice(0, 10)}</span>` : ''}`],
    ['task', l.task_id && html`<span class="mono">${l.task_id}</span>`],
    ['reserves', l.reserve?.length > 0 && html`${l.reserve.map((r) => html`<span class="chip mono">${r}</span> `)}`],
    ['waiting for', w && `${w.symbols.join(', ')} (held by ${w.holders.map((h) => h.run_id).join(', ') || w.behind})`],
    ['follow-up of', l.follow_up_of && html`<a class="mono" href=${`#job/${encodeURIComponent(l.follow_up_of)}`}>${l.follow_up_of}</a>${l.attempt > 1 ? ` (attempt ${l.attempt})` : ''}`],
  ].filter(([, v]) => v);
}

function Summary({ job }) {
  const { features } = useStore(feed);
  const rows = [
    ['agent', `${job.agent}${job.model ? ` · ${job.model}` : ''}`],
    ['created', new Date(job.created_at).toLocaleString()],
    ['ran for', duration(job.running_at ?? job.started_at, job.finished_at)],
    ['exit code', job.exit_code ?? ''],
    ['branch', job.branch ?? ''],
    ['diff', diffStat(job.diff_stat)],
    ['usage', usageText(job.usage)],
    ['position', job.position ?? ''],
    ...landingRows(job.landing),
  ].filter(([, v]) => v !== '' && v !== null && v !== undefined);
  const land = () =>
    attempt(`Land ${job.id}`, async () => {
      await api(`/jobs/${encodeURIComponent(job.id)}/land`, { method: 'POST' });
      notify(`${job.id} entered the merge queue`, 'info');
    });
  return html`<section class="card" aria-labelledby="job-title">
    <div class="row spread">
      <h2 id="job-title"><span class="mono">${job.id}</span> <${StatusBadge} status=${job.status} /></h2>
      <div class="actions">
        ${ACTIVE.has(job.status) && html`<button onClick=${() => cancelJob(job.id)}>Cancel job</button>`}
        ${features?.merge_queue && job.status === 'completed' && job.branch && !job.landing?.entry && html`<button onClick=${land}>Land</button>`}
      </div>
    </div>
    <p class="prompt full">${job.prompt}</p>
    <dl class="facts">${rows.map(([k, v]) => html`<dt>${k}</dt><dd class=${k === 'branch' ? 'mono' : ''}>${v}</dd>`)}</dl>
    ${job.error && html`<p class="error" role="status">${job.error}</p>`}
    ${job.result && html`<div class="final"><strong>Result</strong> <${Clipped} text=${job.result} /></div>`}
  </section>`;
}

export function JobView({ id }) {
  const [job, setJob] = useState(null);
  const [missing, setMissing] = useState(null);
  const [events, setEvents] = useState([]);
  const [streamState, setStreamState] = useState('connecting');
  const [limit, setLimit] = useState(SHOWN);
  const [raw, setRaw] = useState(false);
  const eventsRef = useRef(null);
  const endRef = useRef(null);

  // Its merge-queue entry moves after the job has finished (no job transition): follow the queue.
  const { land } = useStore(feed);
  const entry = land?.entries.find((e) => e.job_id === id);
  const entryKey = entry ? `${entry.id}:${entry.status}` : '';
  useEffect(() => {
    if (!entryKey) return undefined;
    let stale = false;
    api(`/jobs/${encodeURIComponent(id)}`).then((j) => !stale && setJob(j), () => undefined);
    return () => {
      stale = true;
    };
  }, [entryKey]);

  // Opening a job brings its events into view (the list's "events" link lands here), once
  // the summary above them has its height.
  const shown = job !== null || missing !== null;
  useEffect(() => {
    if (!shown) return;
    eventsRef.current?.scrollIntoView({ block: 'start' });
    eventsRef.current?.focus({ preventScroll: true });
  }, [id, shown]);

  useEffect(() => {
    let stale = false;
    setJob(null);
    setMissing(null);
    setEvents([]);
    setLimit(SHOWN);
    const load = () =>
      api(`/jobs/${encodeURIComponent(id)}`).then(
        (j) => !stale && setJob(j),
        (err) => !stale && (err.status === 404 ? setMissing(err.message) : err.status !== 401 && notify(`Load ${id}: ${err.message}`)),
      );
    load();
    const off = onJobTransition((e) => (e.resync || e.job_id === id) && load());
    let finished = false;
    const stop = follow(`/jobs/${encodeURIComponent(id)}/events`, {
      onState: (s) => !stale && setStreamState(s),
      onEvent: ({ data }) => {
        if (data.type === 'status' && FINISHED.has(data.data.status)) finished = true;
        setEvents((list) => [...list, data]);
      },
      onEnd: () => !finished,
    });
    return () => {
      stale = true;
      off();
      stop();
    };
  }, [id]);

  // Follow the tail while the reader is at the bottom.
  useEffect(() => {
    const el = endRef.current;
    if (!el || events.length === 0) return;
    const box = el.parentElement;
    if (box.scrollHeight - box.scrollTop - box.clientHeight < 120) box.scrollTop = box.scrollHeight;
  }, [events.length]);

  return html`
    <p><a href="#jobs">← all jobs</a></p>
    ${missing ? html`<p class="error" role="alert">${missing}</p>` : job ? html`<${Summary} job=${job} />` : html`<p class="muted">Loading…</p>`}
    <section class="card" aria-labelledby="events-title">
      <div class="row spread">
        <h2 id="events-title" tabindex="-1" ref=${eventsRef}>Events <span class="muted">${events.length} · ${streamState === 'ended' ? 'finished' : streamState}</span></h2>
        <label><input type="checkbox" checked=${raw} onChange=${(ev) => setRaw(ev.currentTarget.checked)} /> raw JSON</label>
      </div>
      <ol class="events" id="events">
        ${events.length > limit &&
        html`<li class="event earlier"><span></span><div><button onClick=${() => setLimit((n) => n + SHOWN)}>Show ${Math.min(SHOWN, events.length - limit).toLocaleString()} earlier events</button> <span class="muted">(${(events.length - limit).toLocaleString()} not shown)</span></div></li>`}
        ${events.slice(-limit).map((e) => html`<${EventLine} key=${e.id} e=${e} raw=${raw} />`)}
        <li ref=${endRef} class="end" aria-hidden="true"></li>
      </ol>
    </section>`;
}
