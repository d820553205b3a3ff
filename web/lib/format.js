// Small formatting helpers shared by the views.
export function ago(iso, now = Date.now()) {
  if (!iso) return '';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return new Date(iso).toLocaleDateString();
}

export function until(iso, now = Date.now()) {
  const s = Math.round((Date.parse(iso) - now) / 1000);
  if (s <= 0) return 'expired';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function duration(fromIso, toIso) {
  if (!fromIso || !toIso) return '';
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  return ms < 1000 ? `${ms} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`;
}

export const plural = (n, one, many = `${one}s`) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

export const ACTIVE = new Set(['queued', 'preparing', 'running']);

export function diffStat(d) {
  return d ? `${plural(d.files, 'file')} +${d.insertions} −${d.deletions}` : '';
}

export function usageText(u) {
  if (!u) return '';
  const parts = [];
  if (u.input_tokens !== undefined) parts.push(`${u.input_tokens.toLocaleString()} in`);
  if (u.output_tokens !== undefined) parts.push(`${u.output_tokens.toLocaleString()} out`);
  if (u.num_turns !== undefined) parts.push(plural(u.num_turns, 'turn'));
  if (u.total_cost_usd !== undefined) parts.push(`$${u.total_cost_usd.toFixed(4)}`);
  return parts.join(' · ');
}
