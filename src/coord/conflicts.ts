import type { CoordStore, HolderRow, ReservationRow } from './store.js';
import { symbolsOverlap, type Symbol } from './symbols.js';

/**
 * Live reservations overlapping any of `symbols`, deduplicated, in the order found.
 *
 * Cost stays flat as reservations grow: an exact path is looked up by index in
 * coord_symbols (only rows for that path come back), a glob by a range scan over its
 * literal prefix, and held globs — few, kept in a partial index — are read once per call.
 * Only those candidates are compared in JS.
 */
export function findHolders(
  store: CoordStore,
  symbols: readonly Symbol[],
  opts: { now: number; exceptRun?: string; exclusiveOnly?: boolean },
): ReservationRow[] {
  const found = new Map<string, ReservationRow>();
  let heldGlobs: HolderRow[] | undefined;
  const consider = (row: HolderRow, sym: Symbol): void => {
    if (row.run_id === opts.exceptRun) return;
    if (opts.exclusiveOnly && row.mode !== 'exclusive') return;
    if (found.has(row.reservation_id)) return;
    const held: Symbol = { raw: row.path, path: row.path, name: row.name, glob: row.glob === 1, prefix: row.prefix };
    if (symbolsOverlap(sym, held)) found.set(row.reservation_id, row);
  };
  for (const sym of symbols) {
    const rows = sym.glob
      ? store.all<HolderRow>('holdersUnder', { prefix: sym.prefix, upper: sym.prefix + '\u{10FFFF}', now: opts.now })
      : store.all<HolderRow>('holdersOfPath', { path: sym.path, now: opts.now });
    for (const row of rows) consider(row, sym);
    heldGlobs ??= store.all<HolderRow>('liveGlobHolders', { now: opts.now });
    for (const row of heldGlobs) consider(row, sym);
  }
  return [...found.values()];
}
