import type { Holder } from '../coord/service.js';

/** Print a result: JSON for scripts, or a human rendering. */
export function printResult(json: boolean, value: unknown, human?: (v: any) => string): void {
  if (json || !human) process.stdout.write(JSON.stringify(value, null, json ? 2 : 2) + '\n');
  else process.stdout.write(human(value) + '\n');
}

/** Render rows as aligned columns. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** Reservation holders as a table (coord check/status, the pre-commit hook's refusal). */
export function holdersTable(hs: Holder[]): string {
  return hs.length === 0
    ? 'no holders'
    : table([['RESERVATION', 'RUN', 'EXPIRES', 'SYMBOLS'], ...hs.map((h) => [h.reservation_id, h.run_id, h.expires_at, h.symbols.join(' ')])]);
}

/** "1 candidate", "2 candidates", "0 memories". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
