/**
 * Find the first red prefix of a batch. Prefix i is the target's tip with entries 0..i
 * applied; the tip itself (prefix -1) is taken as green and prefix `n - 1` is known red.
 * Each round tests up to `parallel` prefixes spread evenly between the last known green
 * and the first known red, at the same time, so 16 entries need two rounds of three
 * checks instead of four rounds of one. Returns the culprit's index and every result
 * seen, so the caller can land the green prefix just below it without testing again.
 */
export async function firstRedPrefix<R extends { ok: boolean }>(
  n: number,
  knownRed: R,
  test: (prefix: number, slot: number) => Promise<R>,
  parallel: number,
): Promise<{ culprit: number; results: Map<number, R> }> {
  const results = new Map<number, R>([[n - 1, knownRed]]);
  let green = -1;
  let red = n - 1;
  while (red - green > 1) {
    const gap = red - green - 1;
    const k = Math.min(parallel, gap);
    const points: number[] = [];
    for (let j = 1; j <= k; j++) points.push(green + Math.round((j * (gap + 1)) / (k + 1)));
    const unique = [...new Set(points)].filter((p) => p > green && p < red);
    const outcomes = await Promise.all(unique.map((p, slot) => test(p, slot)));
    unique.forEach((p, i) => results.set(p, outcomes[i]!));
    // The first red among the points bounds the culprit above; the last green below it bounds it below.
    const firstRed = unique.find((p, i) => !outcomes[i]!.ok);
    if (firstRed !== undefined) red = firstRed;
    const greens = unique.filter((p, i) => outcomes[i]!.ok && p < red);
    if (greens.length) green = Math.max(...greens);
  }
  return { culprit: red, results };
}
