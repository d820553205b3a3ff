import { setTimeout as sleep } from 'node:timers/promises';
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { ColonyError, InvalidInputError, fsErrorReason } from '../lib/errors.js';
import type { MemoryStats } from '../memory/service.js';
import { connectDaemon } from './client.js';
import { plural, printResult, table } from './output.js';

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidInputError(`${name} must be a positive whole number, got '${v}'`);
    return n;
  };
}

function seconds(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > 86_400) throw new InvalidInputError(`${name} must be a number of seconds above 0 (at most 86400), got '${v}'`);
    return n;
  };
}

/**
 * Poll until nothing is left to re-embed, with a progress bar where a person is watching;
 * past `timeoutS` seconds, an error saying how far it got and why it is stuck, if it is.
 */
async function waitForEmbedding(stats: () => Promise<MemoryStats>, timeoutS?: number): Promise<MemoryStats> {
  const deadline = timeoutS === undefined ? Infinity : Date.now() + timeoutS * 1000;
  let s = await stats();
  const bar = process.stderr.isTTY && s.embedding.pending > 0 ? new SingleBar({ format: 're-embedding [{bar}] {value}/{total} {note}', stream: process.stderr }, Presets.shades_classic) : undefined;
  bar?.start(s.memories, s.embedding.current, { note: '' });
  while (s.embedding.pending > 0) {
    if (Date.now() >= deadline) {
      bar?.stop();
      const e = s.embedding;
      throw new ColonyError('timeout', `still re-embedding after ${timeoutS} s: ${e.current} of ${s.memories} embedded${e.error ? ` (stalled: ${e.error})` : ''}`);
    }
    await sleep(500);
    s = await stats();
    bar?.setTotal(s.memories);
    bar?.update(s.embedding.current, { note: s.embedding.error ? `stalled: ${s.embedding.error.slice(0, 60)}` : '' });
  }
  bar?.stop();
  return s;
}

const common = (cmd: Command): Command => cmd.option('--repo <dir>', 'repository whose daemon to use').option('--json', 'print JSON');

/** The size of a file to import, or a clear error when it cannot be read. */
function fileSize(file: string): number {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    throw new InvalidInputError(`cannot read ${file}: ${fsErrorReason(err)} (give a JSON-lines file, or - for stdin)`);
  }
  if (st.isDirectory()) throw new InvalidInputError(`cannot read ${file}: it is a directory (give a JSON-lines file, or - for stdin)`);
  return st.size;
}

/**
 * One import request carries at most this much JSON, well under the daemon's body limit
 * (max_prompt_bytes + 64 KiB: 1.06 MiB by default); a daemon refusing it as too large gets
 * halves. Each request is one transaction on the daemon.
 */
const IMPORT_BATCH_BYTES = 512 * 1024;
const IMPORT_BATCH_LINES = 1000;

interface ImportItem {
  line: number;
  value: unknown;
}

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
      printResult(o.json, r, (v) => `stored ${v.id} (${plural(v.tokens, 'token')})`);
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
          ? `${v.memories.map((m: any) => `[${m.score.toFixed(4)}] ${m.text}`).join('\n')}\n(${v.used_tokens} of ${plural(o.budget, 'token')}; ${plural(v.candidates, 'candidate')})`
          : `nothing recalled (${plural(v.candidates, 'candidate')})`,
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
    .option('--timeout <seconds>', 'with --wait: give up after this many seconds (exit 1, saying how far it got)', seconds('--timeout'))
    .action(async (o) => {
      const client = connectDaemon(o.repo);
      const stats = (): Promise<MemoryStats> => client.request<MemoryStats>('POST', '/memory/stats', {});
      if (o.timeout !== undefined && !o.wait) throw new InvalidInputError('--timeout goes with --wait');
      const r = o.wait ? await waitForEmbedding(stats, o.timeout) : await stats();
      printResult(o.json, r, (v: MemoryStats) => {
        const e = v.embedding;
        const embedding = e.pending ? `${e.current} of ${v.memories} embedded, ${e.pending} re-embedding${e.error ? ` (stalled: ${e.error})` : ''}` : 'all embedded';
        return `${plural(v.memories, 'memory', 'memories')}, ${plural(v.tokens, 'token')}; embedder ${v.embedder}: ${embedding}\n${table([['SCOPE', 'COUNT', 'TOKENS'], ...v.scopes.map((s) => [s.scope, String(s.count), String(s.tokens)])])}`;
      });
    });
  memory
    .command('export')
    .description('every memory as JSON lines on stdout (text, tags, scope, source, run_id, created_at), for `memory import`')
    .option('--scope <scope>', 'only this scope')
    .option('--repo <dir>', 'repository whose daemon to use')
    .action(async (o) => {
      const client = connectDaemon(o.repo);
      let cursor: string | undefined;
      do {
        const page = await client.request('POST', '/memory/list', { scope: o.scope, limit: 1000, cursor });
        for (const m of page.memories) {
          const line = { text: m.text, tags: m.tags, scope: m.scope, source: m.source ?? undefined, run_id: m.run_id ?? undefined, created_at: m.created_at };
          process.stdout.write(JSON.stringify(line) + '\n');
        }
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
    });
  common(
    memory
      .command('import')
      .description('store memories from JSON lines ({text, tags?, scope?, source?, created_at?}, as export writes them); - for stdin')
      .argument('<file>'),
  ).action(async (file: string, o) => {
    const total = file === '-' ? undefined : fileSize(file);
    const client = connectDaemon(o.repo);
    const lines = createInterface({ input: file === '-' ? process.stdin : createReadStream(file), crlfDelay: Infinity });
    const progress = process.stderr.isTTY && !o.json;
    let stored = 0;
    let readBytes = 0;
    let lineNo = 0;
    let batch: ImportItem[] = [];
    let batchBytes = 0;
    const send = async (items: ImportItem[]): Promise<void> => {
      try {
        stored += (await client.request<{ stored: number }>('POST', '/memory/import', { memories: items.map((i) => i.value) })).stored;
      } catch (err) {
        // A daemon configured with a smaller body limit: halve until it fits.
        if (err instanceof ColonyError && err.status === 413 && items.length > 1) {
          const half = items.length >> 1;
          await send(items.slice(0, half));
          await send(items.slice(half));
          return;
        }
        if (progress) process.stderr.write('\n');
        const first = items[0]!.line;
        const reason = (err as Error).message.replace(/memories\.(\d+)/g, (_, i: string) => `line ${items[Number(i)]?.line ?? '?'}`);
        throw new ColonyError(
          (err as ColonyError).code ?? 'import_failed',
          `${plural(stored, "memory", "memories")} stored; lines ${first}–${items[items.length - 1]!.line} and after were not (each request is all or nothing): ${reason}\n` +
            `resume with: tail -n +${first} ${file === '-' ? '<file>' : file} | colony memory import -`,
        );
      }
      if (progress) process.stderr.write(`\rimported ${plural(stored, "memory", "memories")}${total ? ` (${Math.round((100 * readBytes) / total)}%)` : ''}`);
    };
    const flush = async (): Promise<void> => {
      if (!batch.length) return;
      const items = batch;
      batch = [];
      batchBytes = 0;
      await send(items);
    };
    for await (const line of lines) {
      lineNo++;
      readBytes += Buffer.byteLength(line) + 1;
      if (!line.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        if (progress) process.stderr.write('\n');
        throw new InvalidInputError(`${file}:${lineNo}: not valid JSON (${stored} memories stored before it)`);
      }
      const bytes = Buffer.byteLength(JSON.stringify(value)) + 1;
      if (batch.length && (batchBytes + bytes > IMPORT_BATCH_BYTES || batch.length >= IMPORT_BATCH_LINES)) await flush();
      batch.push({ line: lineNo, value });
      batchBytes += bytes;
    }
    await flush();
    if (progress) process.stderr.write('\n');
    printResult(o.json, { stored }, (v) => `imported ${plural(v.stored, 'memory', 'memories')}`);
  });
}
