import { ratio, type BenchResult, type BenchScenario } from './lib.js';

/** Scenario modules, each `export default async function(): Promise<BenchResult[]>`. */
const SCENARIOS: Record<string, () => Promise<{ default: BenchScenario }>> = {
  runner: () => import('./runner.js'),
  workspace: () => import('./workspace.js'),
  coord: () => import('./coord.js'),
  'coord-suite': () => import('./coord-suite.js'),
  hub: () => import('./hub.js'),
  memory: () => import('./memory.js'),
  'memory-quality': () => import('./memory-quality.js'),
  'cli-startup': () => import('./cli-startup.js'),
  land: () => import('./land.js'),
  demo: () => import('./demo.js'),
  swarm: () => import('./swarm.js'),
  install: () => import('./install.js'),
  // scenarios: add one line per bench module here
};

function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '-';
  if (Math.abs(n) >= 1000) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(3);
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const names = Object.keys(SCENARIOS).filter((n) => only.length === 0 || only.includes(n));
  const unknown = only.filter((n) => !SCENARIOS[n]);
  if (unknown.length) {
    process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}; have: ${Object.keys(SCENARIOS).join(', ')}\n`);
    process.exit(2);
  }
  const rows: (BenchResult & { scenario: string })[] = [];
  let failed = 0;
  for (const name of names) {
    process.stderr.write(`bench: ${name}…\n`);
    const mod = await SCENARIOS[name]!();
    for (const r of await mod.default()) {
      rows.push({ ...r, scenario: name });
      const q = ratio(r);
      if (q !== undefined && q > 1) failed++;
      process.stdout.write(
        `${name.padEnd(9)} ${r.name.padEnd(62)} ${fmt(r.measured).padStart(10)} ${r.unit.padEnd(9)} ` +
          `${(r.budget === undefined ? '-' : (r.kind === 'max' ? '≤ ' : '≥ ') + fmt(r.budget)).padStart(11)} ` +
          `${q === undefined ? '' : `ratio ${q.toFixed(2)}${q > 1 ? '  OVER BUDGET' : ''}`}${r.note ? `  (${r.note})` : ''}\n`,
      );
    }
  }
  process.stdout.write(`\n${rows.length} measurements, ${failed} over budget\n`);
  if (failed) process.exitCode = 1;
}

await main();
