// Memory: counts and re-embedding progress (live), recall for a cue with the reasons a memory
// matched when the daemon explains them, and the stored memories newest first.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api } from '../lib/api.js';
import { attempt } from '../lib/notices.js';
import { feed } from '../lib/feed.js';
import { useStore } from '../lib/store.js';
import { ago, plural } from '../lib/format.js';

const PAGE = 50;
/** Recall, asking why each memory matched when this daemon's memory_recall can say. */
function recall(body) {
  return api('/memory/recall', { method: 'POST', body: feed.get().features?.memory_explain ? { ...body, explain: true } : body });
}

function Stats({ stats }) {
  if (!stats) return html`<p class="muted">Loading…</p>`;
  const e = stats.embedding;
  return html`<div class="stats">
    <p><strong>${plural(stats.memories, 'memory', 'memories')}</strong> · ${plural(stats.tokens, 'token')} · embedder <span class="mono">${stats.embedder}</span></p>
    ${e.pending > 0 &&
    html`<p role="status">Re-embedding: <progress max=${stats.memories} value=${e.current}></progress> ${e.current.toLocaleString()}/${stats.memories.toLocaleString()}
      ${e.error && html`<span class="error"> stalled: ${e.error}</span>`}</p>`}
    ${stats.scopes.length > 1 && html`<p class="muted">${stats.scopes.map((s) => `${s.scope}: ${s.count.toLocaleString()}`).join(' · ')}</p>`}
  </div>`;
}

/** Why a memory matched: the cue's words it contains, related words, vector similarity, and its rank in each candidate list. */
function Explain({ explain }) {
  if (!explain) return null;
  const ranks = Object.entries(explain.ranks ?? {});
  return html`<dl class="facts explain">
    <dt>matched</dt><dd>${explain.matched?.length ? explain.matched.map((w) => html`<mark class="chip">${w}</mark> `) : html`<span class="muted">no cue word</span>`}</dd>
    ${explain.expanded?.length > 0 && html`<dt>related</dt><dd>${explain.expanded.map((w) => html`<span class="chip">${w}</span> `)}</dd>`}
    <dt>similarity</dt><dd>${typeof explain.similarity === 'number' ? explain.similarity.toFixed(3) : ''}</dd>
    ${ranks.length > 0 && html`<dt>ranked</dt><dd>${ranks.map(([list, rank]) => `${list.replace(/([A-Z])/g, ' $1').toLowerCase()} #${rank}`).join(' · ')}</dd>`}
  </dl>`;
}

function MemoryItem({ m }) {
  return html`<li class="memory" data-memory=${m.id}>
    <div class="job-head">
      ${m.score !== undefined && html`<span class="badge" title="relevance">${m.score.toFixed(3)}</span>`}
      <span class="muted">${plural(m.tokens, 'token')}</span>
      ${m.scope && html`<span class="muted">${m.scope}</span>`}
      ${m.tags?.map((t) => html`<span class="chip">${t}</span>`)}
      <span class="muted" title=${m.created_at}>${ago(m.created_at)}</span>
    </div>
    <p class="pre">${m.text}</p>
    <${Explain} explain=${m.explain} />
  </li>`;
}

function Recall() {
  const [result, setResult] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (ev) => {
    ev.preventDefault();
    const f = ev.currentTarget.elements;
    setBusy(true);
    // Other phrasings of the same need, one per line (the daemon takes at most 8).
    const alternatives = f.alternatives.value.split('\n').map((a) => a.trim()).filter(Boolean).slice(0, 8);
    const r = await attempt('Recall', () =>
      recall({
        cue: f.cue.value,
        budget_tokens: Number(f.budget.value),
        ...(f.scope.value.trim() ? { scope: f.scope.value.trim() } : {}),
        ...(alternatives.length ? { alternatives } : {}),
      }),
    );
    setBusy(false);
    if (r) setResult(r);
  };
  return html`<section class="card" aria-labelledby="recall-title">
    <h2 id="recall-title">Recall</h2>
    <form class="row wrap" onSubmit=${submit}>
      <label for="cue" class="sr-only">Cue</label>
      <input id="cue" name="cue" class="grow" placeholder="What are you looking for?" required maxlength="10000" />
      <label>budget <input name="budget" type="number" min="1" max="1000000" value="1000" class="num" /></label>
      <label>scope <input name="scope" placeholder="repo" class="short" /></label>
      <button disabled=${busy}>Recall</button>
      <label for="alternatives" class="full-width">other phrasings <span class="muted">(optional, one per line: synonyms, file or error names)</span></label>
      <textarea id="alternatives" name="alternatives" rows="2" maxlength="8000" class="full-width"></textarea>
    </form>
    ${result &&
    html`<p class="muted" role="status">${plural(result.memories.length, 'memory', 'memories')} · ${plural(result.used_tokens, 'token')} of ${plural(result.candidates, 'candidate')}</p>
      <ol class="memories recalled">${result.memories.map((m) => html`<${MemoryItem} key=${m.id} m=${m} />`)}</ol>`}
  </section>`;
}

function List({ count }) {
  const [list, setList] = useState(null);
  const [cursor, setCursor] = useState(null);
  const pages = useRef(1);
  // Stored memories change the count: read the loaded pages again.
  useEffect(() => {
    if (count === undefined) return undefined;
    let stale = false;
    attempt('List memories', async () => {
      const page = await api('/memory/list', { method: 'POST', body: { limit: PAGE * pages.current } });
      if (stale) return;
      setList(page.memories);
      setCursor(page.next_cursor);
    });
    return () => {
      stale = true;
    };
  }, [count]);
  const more = () =>
    attempt('List memories', async () => {
      const page = await api('/memory/list', { method: 'POST', body: { limit: PAGE, cursor } });
      pages.current += 1;
      setList((l) => [...l, ...page.memories]);
      setCursor(page.next_cursor);
    });
  return html`<section class="card" aria-labelledby="list-title">
    <h2 id="list-title">Stored memories</h2>
    ${list === null
      ? html`<p class="muted">Loading…</p>`
      : list.length === 0
        ? html`<p class="empty">No memories yet: agents store them with <code>memory_store</code>.</p>`
        : html`<ol class="memories">${list.map((m) => html`<${MemoryItem} key=${m.id} m=${m} />`)}</ol>`}
    ${cursor && html`<button class="more" onClick=${more}>Load older memories</button>`}
  </section>`;
}

export function MemoryView() {
  const { memory } = useStore(feed);
  return html`
    <section class="card" aria-labelledby="mem-title">
      <h2 id="mem-title">Memory</h2>
      <${Stats} stats=${memory} />
    </section>
    <${Recall} />
    <${List} count=${memory ? `${memory.memories}/${memory.tokens}` : undefined} />`;
}
