// Colony dashboard: preact + htm as plain ES modules (served from the daemon), no build step.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './lib/html.js';
import { api, session, signIn, signOut } from './lib/api.js';
import { useStore } from './lib/store.js';
import { feed, startFeed } from './lib/feed.js';
import { notices, dismiss } from './lib/notices.js';
import { SwarmsView } from './views/swarms.js';
import { SwarmView } from './views/swarm.js';
import { JobsView } from './views/jobs.js';
import { JobView } from './views/job.js';
import { MergeQueueView } from './views/merge-queue.js';
import { ReservationsView } from './views/reservations.js';
import { MemoryView } from './views/memory.js';

const VIEWS = [
  ['swarms', 'Swarms'],
  ['jobs', 'Jobs'],
  ['merge-queue', 'Merge queue'],
  ['reservations', 'Reservations'],
  ['memory', 'Memory'],
];

function useRoute() {
  const read = () => location.hash.replace(/^#\/?/, '') || 'jobs';
  const [route, setRoute] = useState(read());
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function Login({ refused }) {
  const [busy, setBusy] = useState(false);
  const submit = async (ev) => {
    ev.preventDefault();
    const token = ev.currentTarget.elements.token.value.trim();
    if (!token) return;
    setBusy(true);
    try {
      await api('/jobs?limit=1', { token });
      signIn(token);
    } catch (err) {
      // A 401 has already said so through the session; anything else is said here.
      if (err.status !== 401) session.set({ token: '', refused: err.message });
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="login" tabindex="-1">
    <form onSubmit=${submit} class="card" aria-labelledby="login-title">
      <h2 id="login-title">Connect to this daemon</h2>
      <label for="token">API token <span class="muted">(in <code>.colony/token</code>, or <code>COLONY_TOKEN</code>)</span></label>
      <input id="token" name="token" type="password" autocomplete="off" required autofocus aria-invalid=${refused ? 'true' : 'false'} aria-describedby="login-error" />
      ${refused && html`<p id="login-error" class="error" role="alert">${refused}</p>`}
      <button disabled=${busy}>${busy ? 'Checking…' : 'Connect'}</button>
    </form>
  </main>`;
}

/** Slots and queue: live from the feed once signed in; /health (public) before that. */
function Health() {
  const { runner } = useStore(feed);
  const [health, setHealth] = useState(undefined);
  useEffect(() => {
    fetch('/health').then((r) => r.json()).then(setHealth, () => setHealth(null));
  }, []);
  const s = runner ? { ...runner, version: health?.version } : health;
  if (s === undefined) return html`<span class="pill">…</span>`;
  if (s === null) return html`<span class="pill">daemon unreachable</span>`;
  return html`<span class="pill" title=${s.version ? `Colony ${s.version}` : ''}>${s.active}/${s.capacity} running · ${s.queued} queued${s.active >= s.capacity ? ' · busy' : ''}</span>`;
}

function Notices() {
  const list = useStore(notices);
  return html`<div class="notices" aria-live="polite">
    ${list.map(
      (n) => html`<div key=${n.id} class=${`notice ${n.kind}`} role=${n.kind === 'error' ? 'alert' : 'status'}>
        <span>${n.text}</span>
        <button class="link" aria-label="Dismiss" onClick=${() => dismiss(n.id)}>×</button>
      </div>`,
    )}
  </div>`;
}

const FEED_LABEL = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', refused: 'updates refused', ended: 'offline' };

function Shell({ route }) {
  const { state } = useStore(feed);
  useEffect(() => startFeed(), []);
  const [name, arg] = route.split('/');
  const current = name === 'job' ? 'jobs' : name === 'swarm' ? 'swarms' : name;
  let view;
  if (name === 'job' && arg) view = html`<${JobView} id=${decodeURIComponent(arg)} />`;
  else if (name === 'swarm' && arg) view = html`<${SwarmView} id=${decodeURIComponent(arg)} />`;
  else if (name === 'swarms') view = html`<${SwarmsView} />`;
  else if (name === 'merge-queue') view = html`<${MergeQueueView} />`;
  else if (name === 'reservations') view = html`<${ReservationsView} />`;
  else if (name === 'memory') view = html`<${MemoryView} />`;
  else view = html`<${JobsView} />`;
  return html`
    <nav aria-label="Views">
      ${VIEWS.map(([id, label]) => html`<a href=${`#${id}`} aria-current=${current === id ? 'page' : undefined}>${label}</a>`)}
      <span class=${`feed feed-${state}`} title="Updates from the daemon">${FEED_LABEL[state] ?? state}</span>
    </nav>
    <main id="main" tabindex="-1">${view}</main>`;
}

/** The first stop of the Tab key: past the header and navigation to the view (the hash is the route, so no #main link). */
function SkipLink() {
  const skip = (ev) => {
    ev.preventDefault();
    const main = document.getElementById('main') ?? document.querySelector('main');
    main?.focus();
  };
  return html`<a class="skip" href="#" onClick=${skip}>Skip to content</a>`;
}

function App() {
  const { token, refused } = useStore(session);
  const route = useRoute();
  return html`
    <${SkipLink} />
    <header>
      <h1><a href="#jobs">Colony</a></h1>
      <${Health} />
      ${token && html`<button class="quiet" onClick=${() => signOut()}>Sign out</button>`}
    </header>
    <${Notices} />
    ${token ? html`<${Shell} route=${route} />` : html`<${Login} refused=${refused} />`}`;
}

render(html`<${App} />`, document.getElementById('app'));
