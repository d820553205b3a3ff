import { InvalidInputError } from '../lib/errors.js';
import { compileGlob, GlobError } from './glob.js';

/**
 * A reserved symbol: a whole file (`src/a.ts`), a symbol in a file (`src/a.ts::Foo`, which
 * covers `src/a.ts::Foo.bar`), or a glob of paths (`drivers/net/**`).
 */
export interface Symbol {
  raw: string;
  path: string;
  /** Dotted symbol name inside the file, or null for the whole file. */
  name: string | null;
  glob: boolean;
  /** For globs: the literal directory part before the first wildcard (`drivers/net/`). */
  prefix: string;
}

const MAX_SYMBOL_LENGTH = 1024;
/** Characters that make a path a glob (see glob.ts for the syntax). */
const GLOB_CHARS = /[*?[\]{}]/;

/** Parse and validate one symbol; throws InvalidInputError naming what is wrong. */
export function parseSymbol(raw: unknown): Symbol {
  if (typeof raw !== 'string' || raw.length === 0) throw new InvalidInputError('symbols: each symbol must be a non-empty string');
  if (raw.length > MAX_SYMBOL_LENGTH) throw new InvalidInputError(`symbols: '${raw.slice(0, 40)}…' is longer than ${MAX_SYMBOL_LENGTH}`);
  if (/[\u0000-\u001f]/.test(raw)) throw new InvalidInputError('symbols: control characters are not allowed');
  const sep = raw.indexOf('::');
  const path = sep < 0 ? raw : raw.slice(0, sep);
  const name = sep < 0 ? null : raw.slice(sep + 2);
  if (!path) throw new InvalidInputError(`symbols: '${raw}' has no path`);
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) throw new InvalidInputError(`symbols: '${raw}' must be relative to the repository root`);
  const segments = path.split('/');
  if (segments.some((s) => s === '..' || s === '.' || s === '')) {
    throw new InvalidInputError(`symbols: '${raw}' is not a normalised path (no '.', '..' or empty segments)`);
  }
  const glob = GLOB_CHARS.test(path);
  if (name !== null) {
    if (glob) throw new InvalidInputError(`symbols: '${raw}': a glob cannot name a symbol`);
    if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(name)) {
      throw new InvalidInputError(`symbols: '${raw}': symbol name must be dotted identifiers like Foo or Foo.bar`);
    }
  }
  let prefix = '';
  if (glob) {
    try {
      globMatcher(path);
    } catch (err) {
      if (!(err instanceof GlobError)) throw err;
      throw new InvalidInputError(`symbols: '${raw}' is not an accepted glob: ${err.message}`, { fields: ['symbols'] });
    }
    const literal = path.split(GLOB_CHARS)[0]!;
    prefix = literal.slice(0, literal.lastIndexOf('/') + 1);
  }
  return { raw, path, name, glob, prefix };
}

/** Would `p` be read as a whole file (not a glob, not `path::name`, and valid)? */
export function isPlainPath(p: string): boolean {
  try {
    const s = parseSymbol(p);
    return !s.glob && s.name === null;
  } catch {
    return false;
  }
}

export function parseSymbols(list: unknown): Symbol[] {
  if (!Array.isArray(list) || list.length === 0) throw new InvalidInputError('symbols: must be a non-empty array');
  if (list.length > 1000) throw new InvalidInputError('symbols: at most 1000 per reservation');
  const parsed = list.map(parseSymbol);
  // Naming a symbol twice means nothing more; keep the first, in the caller's order.
  const seen = new Set<string>();
  return parsed.filter((s) => !seen.has(s.raw) && (seen.add(s.raw), true));
}

/** Does symbol name `a` cover or sit inside `b` (same file)? null is the whole file. */
function namesOverlap(a: string | null, b: string | null): boolean {
  if (a === null || b === null || a === b) return true;
  return a.startsWith(b + '.') || b.startsWith(a + '.');
}

const matchers = new Map<string, (p: string) => boolean>();
/** A compiled glob (cached); linear-time whatever the pattern, see glob.ts. Throws GlobError. */
export function globMatcher(glob: string): (p: string) => boolean {
  let m = matchers.get(glob);
  if (!m) {
    m = compileGlob(glob);
    if (matchers.size > 10_000) matchers.clear();
    matchers.set(glob, m);
  }
  return m;
}

/**
 * Do two symbols overlap? Globs are compared conservatively: two globs overlap when one's
 * literal prefix contains the other's (they might name a common file).
 */
export function symbolsOverlap(a: Symbol, b: Symbol): boolean {
  if (!a.glob && !b.glob) return a.path === b.path && namesOverlap(a.name, b.name);
  if (a.glob && b.glob) return a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix);
  const [g, p] = a.glob ? [a, b] : [b, a];
  return globMatcher(g.path)(p.path);
}

/** Is `target` (a path or path::name) inside one of the symbols? Used for intents. */
export function symbolCovers(holder: Symbol, target: Symbol): boolean {
  if (holder.glob) return !target.glob && globMatcher(holder.path)(target.path);
  if (target.glob) return false;
  if (holder.path !== target.path) return false;
  if (holder.name === null) return true;
  return target.name !== null && (target.name === holder.name || target.name.startsWith(holder.name + '.'));
}
