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
