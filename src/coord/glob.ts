/**
 * Path globs for reservations, matched in time linear in the path (times the pattern's
 * size, both bounded): a glob is compiled to a small NFA and simulated one character at a
 * time with a set of live states, so no pattern can make matching backtrack. A regex
 * engine (what picomatch compiles to) backtracks on patterns like `a/*a*a*a*a*a*b`, and one
 * such reservation held the daemon's event loop for minutes.
 *
 * Syntax: `*` any characters within a segment, `?` one character within a segment,
 * `[abc]` `[a-z]` `[!x]` `[^x]` one character from a class, `**` as a whole segment any
 * number of segments (including none), `{a,b}` alternatives. Everything else is literal.
 */

/** Limits on what a glob may ask for; a glob over them is refused with the rule named. */
export const GLOB_LIMITS = { maxStars: 16, maxAlternatives: 32, maxClasses: 32, maxExpandedLength: 4096 } as const;

export class GlobError extends Error {}

type Node =
  | { t: 'lit'; c: string }
  | { t: 'any' }
  | { t: 'class'; neg: boolean; chars: string; ranges: [string, string][] }
  | { t: 'star' }
  /** Zero or more whole segments, each with its trailing '/' (`**` followed by '/'). */
  | { t: 'segs' }
  /** Nothing, or '/' and anything after it (a trailing `/**`). */
  | { t: 'tail' }
  /** Anything at all (a glob that is just `**`). */
  | { t: 'all' };

/** `{a,b}` alternatives, expanded; nested braces allowed, the total bounded. */
function expandBraces(glob: string): string[] {
  let open = -1;
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) throw new GlobError("unclosed '['");
      i = close;
    } else if (c === '{') {
      if (depth++ === 0) open = i;
    } else if (c === '}') {
      if (depth === 0) throw new GlobError("'}' without '{'");
      if (--depth === 0) {
        const parts: string[] = [];
        let d = 0;
        let start = open + 1;
        for (let k = open + 1; k < i; k++) {
          if (glob[k] === '{') d++;
          else if (glob[k] === '}') d--;
          else if (glob[k] === ',' && d === 0) {
            parts.push(glob.slice(start, k));
            start = k + 1;
          }
        }
        parts.push(glob.slice(start, i));
        const head = glob.slice(0, open);
        const rest = expandBraces(glob.slice(i + 1));
        const out: string[] = [];
        for (const p of parts) {
          for (const q of expandBraces(p)) {
            for (const r of rest) {
              out.push(head + q + r);
              if (out.length > GLOB_LIMITS.maxAlternatives) {
                throw new GlobError(`braces expand to more than ${GLOB_LIMITS.maxAlternatives} alternatives`);
              }
            }
          }
        }
        return out;
      }
    }
  }
  if (depth > 0) throw new GlobError("unclosed '{'");
  return [glob];
}

function parseClass(seg: string, at: number): { node: Node; end: number } {
  let i = at + 1;
  let neg = false;
  if (seg[i] === '!' || seg[i] === '^') {
    neg = true;
    i++;
  }
  const start = i;
  let chars = '';
  const ranges: [string, string][] = [];
  for (; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === ']' && i > start) return { node: { t: 'class', neg, chars, ranges }, end: i };
    if (seg[i + 1] === '-' && i + 2 < seg.length && seg[i + 2] !== ']') {
      ranges.push([c, seg[i + 2]!]);
      i += 2;
    } else chars += c;
  }
  throw new GlobError("unclosed '['");
}

/** One brace-free alternative as a node list. */
function compileAlternative(glob: string): Node[] {
  // `a/**/**/b` means what `a/**/b` means.
  const segs = glob.split('/').filter((s, i, all) => !(s === '**' && all[i - 1] === '**'));
  const nodes: Node[] = [];
  const last = segs.length - 1;
  segs.forEach((seg, i) => {
    if (i > 0 && segs[i - 1] !== '**') {
      if (seg === '**' && i === last) {
        nodes.push({ t: 'tail' });
        return;
      }
      nodes.push({ t: 'lit', c: '/' });
    }
    if (seg === '**') {
      nodes.push(i === last ? { t: 'all' } : { t: 'segs' });
      return;
    }
    for (let k = 0; k < seg.length; k++) {
      const c = seg[k]!;
      if (c === '*') {
        while (seg[k + 1] === '*') k++;
        nodes.push({ t: 'star' });
      } else if (c === '?') nodes.push({ t: 'any' });
      else if (c === '[') {
        const { node, end } = parseClass(seg, k);
        nodes.push(node);
        k = end;
      } else nodes.push({ t: 'lit', c });
    }
  });
  return nodes;
}

function classHas(n: Extract<Node, { t: 'class' }>, c: string): boolean {
  const inside = n.chars.includes(c) || n.ranges.some(([lo, hi]) => c >= lo && c <= hi);
  return inside !== n.neg;
}

/**
 * Does `path` match the node list? A state is `2i` (at the start of node i) or `2i + 1`
 * (inside node i: part-way through a segment of `segs`, or past the '/' of `tail`); the
 * live states are kept as a list, deduplicated per step, so each character costs one step
 * per live state (a handful for real globs) and never more than one per state: the whole
 * match is O(path × nodes) at worst, whatever the pattern.
 */
function simulate(nodes: readonly Node[], path: string): boolean {
  const n = nodes.length;
  const seen = new Uint32Array(2 * (n + 1));
  let step = 1;
  const add = (list: number[], s: number): void => {
    if (seen[s] === step) return;
    seen[s] = step;
    list.push(s);
    // Epsilon moves (skip a star, an empty run of segments, an empty tail) go forward only.
    const i = s >> 1;
    if (i >= n) return;
    const t = nodes[i]!.t;
    if ((s & 1) === 0 ? t === 'star' || t === 'segs' || t === 'tail' || t === 'all' : t === 'tail') add(list, 2 * (i + 1));
  };
  let live: number[] = [];
  add(live, 0);
  for (let p = 0; p < path.length; p++) {
    const c = path[p]!;
    step++;
    const next: number[] = [];
    for (const s of live) {
      const i = s >> 1;
      if (i >= n) continue; // the end: nothing left to consume a character
      const node = nodes[i]!;
      if ((s & 1) === 0) {
        switch (node.t) {
          case 'lit':
            if (c === node.c) add(next, 2 * (i + 1));
            break;
          case 'any':
            if (c !== '/') add(next, 2 * (i + 1));
            break;
          case 'class':
            if (c !== '/' && classHas(node, c)) add(next, 2 * (i + 1));
            break;
          case 'star':
            if (c !== '/') add(next, 2 * i);
            break;
          case 'segs':
            // A segment is never empty: '/' right at its start does not begin one.
            if (c !== '/') add(next, 2 * i + 1);
            break;
          case 'tail':
            if (c === '/') add(next, 2 * i + 1);
            break;
          case 'all':
            add(next, 2 * i);
            break;
        }
      } else if (node.t === 'segs') add(next, c === '/' ? 2 * i : 2 * i + 1);
      else if (node.t === 'tail') add(next, 2 * i + 1);
    }
    if (next.length === 0) return false;
    live = next;
  }
  return live.includes(2 * n);
}

/**
 * Compile a glob into a matcher; throws GlobError naming the rule a glob breaks (unclosed
 * bracket, too many wildcards or alternatives, an escape or a leading '!').
 */
export function compileGlob(glob: string): (path: string) => boolean {
  if (glob.startsWith('!')) throw new GlobError("a negated glob ('!…') cannot be reserved");
  if (glob.includes('\\')) throw new GlobError("backslash escapes are not supported in globs");
  const expanded = expandBraces(glob);
  if (expanded.reduce((n, a) => n + a.length, 0) > GLOB_LIMITS.maxExpandedLength) {
    throw new GlobError(`braces expand to more than ${GLOB_LIMITS.maxExpandedLength} characters`);
  }
  const alternatives = expanded.map(compileAlternative);
  for (const nodes of alternatives) {
    if (nodes.filter((n) => n.t !== 'lit' && n.t !== 'any' && n.t !== 'class').length > GLOB_LIMITS.maxStars) {
      throw new GlobError(`at most ${GLOB_LIMITS.maxStars} '*' or '**' wildcards per glob`);
    }
    if (nodes.filter((n) => n.t === 'class').length > GLOB_LIMITS.maxClasses) {
      throw new GlobError(`at most ${GLOB_LIMITS.maxClasses} '[…]' classes per glob`);
    }
  }
  return (path) => alternatives.some((nodes) => simulate(nodes, path));
}
