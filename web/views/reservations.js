// Reservations: who holds which files and symbols, until when; live from the daemon feed.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { feed } from '../lib/feed.js';
import { useStore } from '../lib/store.js';
import { until } from '../lib/format.js';

/** Countdowns tick locally; the feed says when the set itself changes. */
function useNow(ms) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

function SymbolChip({ s }) {
  const sep = s.indexOf('::');
  return sep < 0
    ? html`<li class="chip mono" title="file or glob">${s}</li>`
    : html`<li class="chip mono" title="symbol">${s.slice(0, sep)}<strong>::${s.slice(sep + 2)}</strong></li>`;
}

export function ReservationsView() {
  const { reservations } = useStore(feed);
  const now = useNow(1000);
  let body;
  if (reservations === null) body = html`<p class="muted">Loading…</p>`;
  else if (reservations.length === 0) body = html`<p class="empty">Nobody holds a reservation.</p>`;
  else {
    const byRun = new Map();
    for (const r of reservations) byRun.set(r.run_id, [...(byRun.get(r.run_id) ?? []), r]);
    body = html`<ul class="runs">
      ${[...byRun].map(
        ([run, list]) => html`<li class="run" data-run=${run}>
          <h3 class="mono">${run} <span class="muted">${list.length} reservation${list.length === 1 ? '' : 's'}</span></h3>
          <ul class="reservations">
            ${list.map(
              (r) => html`<li class="reservation" data-reservation=${r.reservation_id}>
                <ul class="chips">${r.symbols.map((s) => html`<${SymbolChip} s=${s} />`)}</ul>
                <span class="muted">${r.mode} · expires in <time datetime=${r.expires_at} title=${new Date(r.expires_at).toLocaleString()}>${until(r.expires_at, now)}</time> · <span class="mono">${r.reservation_id.slice(0, 12)}</span></span>
              </li>`,
            )}
          </ul>
        </li>`,
      )}
    </ul>`;
  }
  return html`<section class="card" aria-labelledby="res-title">
    <h2 id="res-title">Reservations ${reservations && reservations.length > 0 && html`<span class="muted">(${reservations.length})</span>`}</h2>
    ${body}
  </section>`;
}
