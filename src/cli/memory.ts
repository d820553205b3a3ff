import { setTimeout as sleep } from 'node:timers/promises';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { InvalidInputError } from '../lib/errors.js';
import type { MemoryStats } from '../memory/service.js';
import { connectDaemon } from './client.js';
import { printResult, table } from './output.js';

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidInputError(`${name} must be a positive whole number, got '${v}'`);
    return n;
  };
}

/** Poll until nothing is left to re-embed, with a progress bar where a person is watching. */
async function waitForEmbedding(stats: () => Promise<MemoryStats>): Promise<MemoryStats> {
  let s = await stats();
  const bar = process.stderr.isTTY && s.embedding.pending > 0 ? new SingleBar({ format: 're-embedding [{bar}] {value}/{total} {note}', stream: process.stderr }, Presets.shades_classic) : undefined;
  bar?.start(s.memories, s.embedding.current, { note: '' });
  while (s.embedding.pending > 0) {
    await sleep(500);
    s = await stats();
    bar?.setTotal(s.memories);
    bar?.update(s.embedding.current, { note: s.embedding.error ? `stalled: ${s.embedding.error.slice(0, 60)}` : '' });
  }
  bar?.stop();
  return s;
}

const common = (cmd: Command): Command => cmd.option('--repo <dir>', 'repository whose daemon to use').option('--json', 'print JSON');

/** Lines of an import file that hold more than this go in separate requests. */
const IMPORT_BATCH = 500;

export function registerMemory(program: Command): void {
  const memory = program.command('memory').description("the swarm's shared long-term memory");
  common(memory.command('add').description('store a memory').argument('<text>'))
    .option('--tag <tags...>', 'tags')
    .option('--scope <scope>', "'repo' (default), 'global', or any name")
    .option('--source <source>', 'where it came from')
    .action(async (text: string, o) => {
      const r = await connectDaemon(o.repo).request('POST', '/memory/store', {
        text,
        tags: o.tag,
        scope: o.scope,
        source: o.source,
        run_id: process.env.COLONY_RUN_ID || undefined,
      });
      printResult(o.json, r, (v) => `stored ${v.id} (${v.tokens} tokens)`);
    });
  common(memory.command('recall').description('memories relevant to a cue, within a token budget').argument('<cue>'))
    .option('--budget <tokens>', 'token budget', int('--budget'), 1000)
    .option('--scope <scope>', 'scope')
    .option('-k <n>', 'at most this many', int('-k'))
    .option('--tag <tags...>', 'only memories with one of these tags')
    .action(async (cue: string, o) => {
      const r = await connectDaemon(o.repo).request('POST', '/memory/recall', { cue, budget_tokens: o.budget, scope: o.scope, k: o.k, tags: o.tag });
      printResult(o.json, r, (v) =>
        v.memories.length
          ? `${v.memories.map((m: any) => `[${m.score.toFixed(4)}] ${m.text}`).join('\n')}\n(${v.used_tokens} tokens of ${o.budget}; ${v.candidates} candidates)`
          : `nothing recalled (${v.candidates} candidates)`,
      );
    });
  common(memory.command('forget').description('forget a memory').argument('<id>')).action(async (id: string, o) => {
    const r = await connectDaemon(o.repo).request('POST', '/memory/forget', { id });
    printResult(o.json, r, (v) => (v.forgotten ? `forgot ${id}` : `no memory ${id}`));
    if (!r.forgotten) process.exitCode = 1;
  });
  common(memory.command('ls').description('memories, newest first'))
    .option('--scope <scope>', 'scope')
    .option('--limit <n>', 'how many', int('--limit'), 50)
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .action(async (o) => {
      const r = await connectDaemon(o.repo).request('POST', '/memory/list', { scope: o.scope, limit: o.limit, cursor: o.cursor });
      printResult(o.json, r, (v) =>
        v.memories.length
          ? table([['ID', 'SCOPE', 'TOKENS', 'TEXT'], ...v.memories.map((m: any) => [m.id, m.scope, String(m.tokens), m.text.slice(0, 70)])]) +
            (v.next_cursor ? `\nmore: --cursor ${v.next_cursor}` : '')
          : 'no memories',
      );
    });
  common(memory.command('stats').description('counts per scope, and the embedder with its re-embedding progress'))
    .option('--wait', 'after switching embedders: wait (showing progress) until every memory is re-embedded')
    .action(async (o) => {
      const client = connectDaemon(o.repo);
      const stats = (): Promise<MemoryStats> => client.request<MemoryStats>('POST', '/memory/stats', {});
      const r = o.wait ? await waitForEmbedding(stats) : await stats();
      printResult(o.json, r, (v: MemoryStats) => {
        const e = v.embedding;
        const embedding = e.pending ? `${e.current} of ${v.memories} embedded, ${e.pending} re-embedding${e.error ? ` (stalled: ${e.error})` : ''}` : 'all embedded';
        return `${v.memories} memories, ${v.tokens} tokens; embedder ${v.embedder}: ${embedding}\n${table([['SCOPE', 'COUNT', 'TOKENS'], ...v.scopes.map((s) => [s.scope, String(s.count), String(s.tokens)])])}`;
      });
    });
  memory
    .command('export')
    .description('every memory as JSON lines on stdout')
    .option('--scope <scope>', 'only this scope')
    .option('--repo <dir>', 'repository whose daemon to use')
    .action(async (o) => {
      const client = connectDaemon(o.repo);
      let cursor: string | undefined;
      do {
        const page = await client.request('POST', '/memory/list', { scope: o.scope, limit: 1000, cursor });
        for (const m of page.memories) process.stdout.write(JSON.stringify({ text: m.text, tags: m.tags, scope: m.scope, source: m.source ?? undefined }) + '\n');
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
    });
  common(memory.command('import').description('store memories from JSON lines ({text, tags?, scope?, source?}); - for stdin').argument('<file>')).action(
    async (file: string, o) => {
      const client = connectDaemon(o.repo);
      const lines = createInterface({ input: file === '-' ? process.stdin : createReadStream(file) });
      let batch: unknown[] = [];
      let stored = 0;
      let lineNo = 0;
      const flush = async (): Promise<void> => {
        if (!batch.length) return;
        stored += (await client.request<{ stored: number }>('POST', '/memory/import', { memories: batch })).stored;
        batch = [];
        if (process.stderr.isTTY) process.stderr.write(`\rimported ${stored}`);
      };
      for await (const line of lines) {
        lineNo++;
        if (!line.trim()) continue;
        try {
          batch.push(JSON.parse(line));
        } catch {
          throw new InvalidInputError(`${file}:${lineNo}: not valid JSON`);
        }
        if (batch.length >= IMPORT_BATCH) await flush();
      }
      await flush();
      if (process.stderr.isTTY) process.stderr.write('\n');
      printResult(o.json, { stored }, (v) => `imported ${v.stored} memories`);
    },
  );
}
