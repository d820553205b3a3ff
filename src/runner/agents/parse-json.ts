/** Parse a line as a JSON object, or undefined for anything else (banners, blank lines). */
export function parseJsonLine(line: string): Record<string, any> | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(t);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
