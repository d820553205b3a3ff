// Colony dashboard: plain ES module, no build step. The token stays in this browser's
// localStorage and goes only to this daemon, as a Bearer header.
const $ = (id) => document.getElementById(id);
let token = localStorage.getItem('colony-token') || '';
let following = null;

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers || {}) } });
  if (res.status === 401) { showLogin(); throw new Error('unauthorized'); }
  const body = await res.json();
  if (!res.ok) throw new Error(body?.error?.message || `HTTP ${res.status}`);
  return body;
}

function showLogin() { $('login').hidden = false; }

async function refreshHealth() {
  try {
    const h = await (await fetch('/health')).json();
    $('health').textContent = `${h.active}/${h.capacity} running · ${h.queued} queued${h.busy ? ' · busy' : ''} · v${h.version}`;
  } catch { $('health').textContent = 'daemon unreachable'; }
}

function cell(text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td; }

async function refreshJobs() {
  if (!token) return showLogin();
  const status = $('status-filter').value;
  const { jobs } = await api(`/jobs?limit=50${status ? `&status=${status}` : ''}`);
  const body = $('jobs').tBodies[0];
  body.replaceChildren(...jobs.map((j) => {
    const tr = document.createElement('tr');
    tr.append(cell(j.id), cell(j.status, `status-${j.status}`), cell(j.agent + (j.model ? ` (${j.model})` : '')),
      cell(new Date(j.created_at).toLocaleTimeString()),
      cell(j.diff_stat ? `${j.diff_stat.files}f +${j.diff_stat.insertions} −${j.diff_stat.deletions}` : ''),
      cell(j.prompt, 'prompt'));
    const actions = document.createElement('td');
    const view = document.createElement('button'); view.textContent = 'events'; view.onclick = () => follow(j.id);
    actions.append(view);
    if (['queued', 'preparing', 'running'].includes(j.status)) {
      const cancel = document.createElement('button'); cancel.textContent = 'cancel';
      cancel.onclick = () => api(`/jobs/${j.id}/cancel`, { method: 'POST' }).then(refreshJobs);
      actions.append(cancel);
    }
    tr.append(actions);
    return tr;
  }));
}

async function follow(id) {
  following?.abort();
  following = new AbortController();
  $('detail').hidden = false; $('detail-id').textContent = id; $('events').textContent = '';
  const res = await fetch(`/jobs/${id}/events`, { headers: { authorization: `Bearer ${token}` }, signal: following.signal });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read().catch(() => ({ done: true }));
    if (done) break;
    buf += value;
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i); buf = buf.slice(i + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (!data) continue;
      const e = JSON.parse(data);
      const d = e.data;
      const line = e.type === 'status' ? `[${d.status}]${d.error ? ' ' + d.error : ''}` : e.type === 'log' ? d.line : d.type === 'text' ? d.text : d.type === 'tool_use' ? `→ ${d.name}` : d.type === 'result' ? `= ${d.text}` : JSON.stringify(d);
      $('events').textContent += line + '\n';
    }
  }
}

$('login').onsubmit = (ev) => {
  ev.preventDefault();
  token = $('token').value.trim();
  localStorage.setItem('colony-token', token);
  $('login').hidden = true;
  init();
};
$('run').onsubmit = async (ev) => {
  ev.preventDefault();
  try {
    const r = await api('/execute', { method: 'POST', body: JSON.stringify({ prompt: $('prompt').value, agent: $('agent').value || undefined }) });
    $('run-msg').textContent = `queued ${r.job_id}`; $('prompt').value = '';
    refreshJobs();
  } catch (err) { $('run-msg').textContent = err.message; }
};
$('status-filter').onchange = refreshJobs;

async function refreshMemoryStats() {
  const s = await api('/memory/stats', { method: 'POST', body: '{}' });
  const e = s.embedding;
  $('memory-stats').textContent = `${s.memories} memories · ${s.tokens} tokens · ${s.embedder}` +
    (e.pending ? ` · re-embedding ${e.current}/${s.memories}${e.error ? ' (stalled: ' + e.error + ')' : ''}` : '');
}
$('recall').onsubmit = async (ev) => {
  ev.preventDefault();
  try {
    const r = await api('/memory/recall', { method: 'POST', body: JSON.stringify({ cue: $('cue').value, budget_tokens: Number($('budget').value), explain: true }) });
    $('memories').tBodies[0].replaceChildren(...r.memories.map((m) => {
      const tr = document.createElement('tr');
      const text = cell(m.text, 'prompt');
      // Why it matched: the cue's words it uses, related words (synonyms), similarity.
      const why = document.createElement('small');
      why.className = 'why';
      const x = m.explain;
      why.textContent = x ? `matched: ${x.matched.join(', ') || '—'}${x.expanded.length ? ` · related: ${x.expanded.join(', ')}` : ''} · similarity ${x.similarity.toFixed(2)}` : '';
      text.append(document.createElement('br'), why);
      tr.append(cell(m.score.toFixed(4)), cell(String(m.tokens)), cell(m.tags.join(', ')), text);
      return tr;
    }));
  } catch (err) { $('memory-stats').textContent = err.message; }
};

async function init() {
  refreshHealth();
  if (!token) return showLogin();
  try {
    const models = await api('/v1/models');
    const agents = [...new Set(models.data.filter((m) => m.id.startsWith('colony/')).map((m) => m.id.slice(7)))];
    $('agent').replaceChildren(...agents.map((a) => Object.assign(document.createElement('option'), { value: a, textContent: a })));
    await refreshJobs();
    await refreshMemoryStats();
  } catch { /* login shown on 401 */ }
}
setInterval(refreshHealth, 2000);
setInterval(() => token && refreshJobs().catch(() => {}), 3000);
setInterval(() => token && refreshMemoryStats().catch(() => {}), 5000);
init();
