// The merge queue (GET /merge-queue): entries in order with their status, kept current.
// A daemon without the merge queue says so instead of failing.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api } from '../lib/api.js';
import { attempt, notify } from '../lib/notices.js';
import { feed, onJobTransition } from '../lib/feed.js';
import { useStore } from '../lib/store.js';
import { ago } from '../lib/format.js';

/** Entries change without a job transition too (checks run, batches land): read again this often. */
const REREAD_MS = 2000;
const SHOWN = new Set(['id', 'job_id', 'branch', 'head', 'status', 'created_at', 'updated_at']);
const DONE = /^(landed|removed|dropped|merged)$/;
const RETRYABLE = /fail|conflict|red|error|reject|stuck/;

function entriesOf(body) {
  if (Array.isArray(body)) return body;
  return body?.entries ?? [];
}

function extra(entry) {
  return Object.entries(entry).filter(([k, v]) => !SHOWN.has(k) && v !== null && v !== undefined && v !== '');
}

function Entry({ entry, index }) {
  const act = (what) =>
    attempt(`${what} ${entry.id}`, async () => {
      await api(`/merge-queue/${encodeURIComponent(entry.id)}/${what}`, { method: 'POST' });
      notify(`${entry.id}: ${what} requested`, 'info');
    });
  return html`<li class="entry" data-entry=${entry.id}>
    <div class="job-head">
      <span class="muted">${index + 1}.</span>
      <span class="mono">${entry.id}</span>
      <span class=${`badge mq-${entry.status}`}>${entry.status}</span>
      ${entry.job_id && html`<a class="mono" href=${`#job/${entry.job_id}`}>${entry.job_id}</a>`}
      ${entry.updated_at && html`<span class="muted">${ago(entry.updated_at)}</span>`}
    </div>
    <p class="mono small">${entry.branch}${entry.head ? ` @ ${String(entry.head).slice(0, 10)}` : ''}</p>
    ${extra(entry).length > 0 &&
    html`<dl class="facts">${extra(entry).map(([k, v]) => html`<dt>${k.replace(/_/g, ' ')}</dt><dd>${typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd>`)}</dl>`}
    <div class="actions">
      ${RETRYABLE.test(entry.status) && html`<button onClick=${() => act('retry')}>retry</button>`}
      ${!DONE.test(entry.status) && html`<button onClick=${() => act('remove')}>remove</button>`}
    </div>
  </li>`;
}

export function MergeQueueView() {
  const { features } = useStore(feed);
  const [entries, setEntries] = useState(null);
  const [unavailable, setUnavailable] = useState(false);
  const enabled = features?.merge_queue;

  useEffect(() => {
    if (!enabled) return undefined;
    let stale = false;
    const load = () =>
      api('/merge-queue').then(
        (body) => !stale && setEntries(entriesOf(body)),
        (err) => {
          if (stale) return;
          if (err.status === 404) setUnavailable(true);
          else notify(`Merge queue: ${err.message}`);
        },
      );
    load();
    const timer = setInterval(load, REREAD_MS);
    const off = onJobTransition(load);
    return () => {
      stale = true;
      clearInterval(timer);
      off();
    };
  }, [enabled]);

  let body;
  if (features === null) body = html`<p class="muted">Connecting…</p>`;
  else if (!enabled || unavailable)
    body = html`<p class="empty" data-state="unavailable">This daemon has no merge queue (<code>GET /merge-queue</code> is not served). Jobs keep their branches; land them with git.</p>`;
  else if (entries === null) body = html`<p class="muted">Loading…</p>`;
  else if (entries.length === 0) body = html`<p class="empty" data-state="empty">The merge queue is empty. A completed job's branch enters it with <strong>Land</strong> on the job's page.</p>`;
  else body = html`<ol class="entries">${entries.map((e, i) => html`<${Entry} key=${e.id} entry=${e} index=${i} />`)}</ol>`;
  return html`<section class="card" aria-labelledby="mq-title">
    <h2 id="mq-title">Merge queue ${entries && entries.length > 0 && html`<span class="muted">(${entries.length})</span>`}</h2>
    ${body}
  </section>`;
}
