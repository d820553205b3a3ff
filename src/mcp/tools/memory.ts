import { z } from 'zod';
import type { MemoryService } from '../../memory/service.js';
import type { MemoryWorkers } from '../../memory/pool.js';
import { defineTool, type ToolDef } from '../tool.js';

const scope = z.string().min(1).max(100).describe("'repo' (default), 'global', or any name");
const tags = z.array(z.string().min(1).max(100)).max(50);

/** The memory tools; recall goes to the worker pool when there is one. */
export function memoryTools(memory: MemoryService, pool?: MemoryWorkers): ToolDef[] {
  return [
    defineTool({
      name: 'memory_store',
      description:
        'Remember something worth knowing later. Storing the same text again in a scope refreshes it. ' +
        'Give `keywords` when the text uses project names or jargon that someone looking for it later would not say (e.g. for "CI OOMs in webpack" add "build memory crash heap"): they are searched with extra weight.',
      input: z.object({ text: z.string().min(1).max(65_536), tags: tags.optional(), keywords: z.array(z.string().min(1).max(100)).max(50).optional(), scope: scope.optional(), source: z.string().max(500).optional(), run_id: z.string().max(200).optional() }).strict(),
      // A job's agent need not say which run it is: its connection did (see colony/session).
      handler: (a, ctx) => memory.store({ ...a, run_id: a.run_id ?? ctx.session?.runId }),
    }),
    defineTool({
      name: 'memory_recall',
      description:
        'The most relevant memories for a cue that fit in budget_tokens (BM25 over words and synonyms, fused with embedding similarity). ' +
        'Memories are written in other words than you will ask in: pass `alternatives`, 2–4 other phrasings or keyword lists of the same need ' +
        '(synonyms, the likely file, tool or error names), e.g. cue "why do e2e tests fail on CI" with alternatives ["playwright browser missing build server", "integration specs flaky pipeline"]. ' +
        '`explain: true` says why each memory matched.',
      input: z
        .object({
          cue: z.string().min(1).max(10_000),
          budget_tokens: z.number().int().min(1).max(1_000_000),
          scope: scope.optional(),
          k: z.number().int().min(1).max(200).optional(),
          tags: tags.optional(),
          alternatives: z.array(z.string().min(1).max(1000)).max(8).optional(),
          explain: z.boolean().optional(),
        })
        .strict(),
      handler: (a, ctx) => (pool ? pool.recall(a, ctx.signal) : memory.recall(a)),
    }),
    defineTool({
      name: 'memory_forget',
      description: 'Forget one memory by id.',
      input: z.object({ id: z.string().min(1).max(100) }).strict(),
      handler: (a) => memory.forget(a),
    }),
    defineTool({
      name: 'memory_list',
      description: 'Memories, newest first, by scope.',
      input: z.object({ scope: scope.optional(), limit: z.number().int().min(1).max(10_000).optional(), cursor: z.string().max(40).optional() }).strict(),
      handler: (a) => memory.list(a),
    }),
    defineTool({
      name: 'memory_stats',
      description: 'How many memories and tokens, per scope, and the embedder with its re-embedding progress.',
      input: z.object({}).strict(),
      handler: () => memory.stats(),
    }),
  ];
}
