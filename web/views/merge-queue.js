// The merge queue, live from the daemon feed (`event: land`, the whole queue on every change):
// entries in order with their status, why one did not land (conflicting files and hunks, or
// the check's output), the follow-up it started, and retry / remove.
import { html } from '../lib/html.js';
import { api } from '../lib/api.js';
import { attempt, notify } from '../lib/notices.js';
import { feed } from '../lib/feed.js';
import { useStore } from '../lib/store.js';
import { ago } from '../lib/format.js';

const RETRYABLE = new Set(['conflicted', 'failed_check', 'removed']);
const REMOVABLE = new Set(['queued', 'testing', 'conflicted', 'failed_check']);

function Evidence({ evidence }) {
  if (!evidence) return null;
  if (evidence.kind === 'conflict') {
    return html`<div class="evidence">
      <p><strong>Conflict</strong> on <span class="mono">${evidence.onto.slice(0, 10)}</span> in
        ${evidence.files?.map((f) => html` <span class="chip mono">${f}</span>`)}</p>
      ${evidence.hunks && html`<details><summary>the conflicting hunks</summary><pre class="hunks">${evidence.hunks}</pre></details>`}
    </div>`;
  }
  const why = evidence.timed_out ? 'timed out' : evidence.exit_code === null || evidence.exit_code === undefined ? 'was killed' : `exited ${evidence.exit_code}`;
  return html`<div class="evidence">
    <p><strong>Check ${why}</strong> on <span class="mono">${evidence.onto.slice(0, 10)}</span></p>
    ${evidence.output_tail && html`<details><summary>its output (last part)</summary><pre class="hunks">${evidence.output_tail}</pre></details>`}
  </div>`;
}

function Entry({ entry }) {
  const act = (what) =>
    attempt(`${what[0].toUpperCase()}${what.slice(1)} ${entry.id}`, async () => {
      await api(`/merge-queue/${encodeURIComponent(entry.id)}/${what}`, { method: 'POST' });
      notify(`${entry.id}: ${what === 'retry' ? 'queued again' : 'removed'}`, 'info');
    });
  const follow = entry.follow_up;
  return html`<li class="entry" data-entry=${entry.id} data-status=${entry.status}>
    <div class="job-head">
      ${entry.position && html`<span class="muted">#${entry.position}</span>`}
      <span class=${`badge mq-${entry.status}`}>${entry.status.replace('_', ' ')}</span>
      <a class="mono" href=${`#job/${entry.job_id}`}>${entry.job_id}</a>
      ${entry.attempt > 1 && html`<span class="muted">attempt ${entry.attempt}</span>`}
      <span class="muted" title=${entry.updated_at}>${ago(entry.updated_at)}</span>
    </div>
    <p class="mono small">${entry.branch} @ ${entry.head.slice(0, 10)} → ${entry.target}${entry.landed_commit ? ` = ${entry.landed_commit.slice(0, 10)}` : ''}</p>
    ${entry.error && html`<p class="error small">${entry.error}</p>`}
    <${Evidence} evidence=${entry.evidence} />
    ${follow &&
    html`<p class="small">Follow-up: ${follow.job_id ? html`job <a class="mono" href=${`#job/${follow.job_id}`}>${follow.job_id}</a>` : ''}${follow.task_id ? html` task <span class="mono">${follow.task_id}</span>` : ''}</p>`}
    <div class="actions">
      ${RETRYABLE.has(entry.status) && html`<button onClick=${() => act('retry')} aria-label=${`retry ${entry.id}`}>retry</button>`}
      ${REMOVABLE.has(entry.status) && html`<button onClick=${() => act('remove')} aria-label=${`remove ${entry.id}`}>remove</button>`}
    </div>
  </li>`;
}

export function MergeQueueView() {
  const { features, land } = useStore(feed);
  let body;
  if (features === null || (features.merge_queue && !land)) body = html`<p class="muted">Loading…</p>`;
  else if (!features.merge_queue)
    body = html`<p class="empty" data-state="unavailable">This daemon has no merge queue (<code>GET /merge-queue</code> is not served). Jobs keep their branches; land them with git.</p>`;
  else if (land.entries.length === 0)
    body = html`<p class="empty" data-state="empty">The merge queue is empty. A completed job's branch enters it with <strong>Land</strong> on the job's page, or by itself when the job asked to land.</p>`;
  else body = html`<ol class="entries">${land.entries.map((e) => html`<${Entry} key=${e.id} entry=${e} />`)}</ol>`;
  return html`<section class="card" aria-labelledby="mq-title">
    <h2 id="mq-title">Merge queue ${land && land.entries.length > 0 && html`<span class="muted">(${land.entries.length})</span>`}</h2>
    ${land && html`<p class="muted">lands on <span class="mono">${land.target || '?'}</span></p>`}
    ${land?.blocked && html`<p class="error" role="status" data-state="blocked">Not moving: ${land.blocked}</p>`}
    ${body}
  </section>`;
}
