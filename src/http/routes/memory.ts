import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../../lib/validate.js';
import type { MemoryService } from '../../memory/service.js';

/** One memory as `memory export` writes it. */
const importedMemory = z
  .object({
    text: z.string().min(1).max(65_536),
    tags: z.array(z.string().min(1).max(100)).max(50).optional(),
    keywords: z.array(z.string().min(1).max(100)).max(50).optional(),
    scope: z.string().min(1).max(100).optional(),
    source: z.string().max(500).nullish(),
    run_id: z.string().max(200).nullish(),
    created_at: z.string().datetime({ offset: true }).optional(),
  })
  .strict();

const importSchema = z.object({ memories: z.array(importedMemory).min(1).max(5000) }).strict();

/** Bulk import (the MCP tools cover the rest of /memory/*): one transaction per request. */
export function memoryRoutes(app: FastifyInstance, deps: { memory: MemoryService }): void {
  app.post('/memory/import', async (req) => {
    const body = parseInput(importSchema, req.body ?? {});
    const inputs = body.memories.map((m) => ({
      text: m.text,
      tags: m.tags,
      keywords: m.keywords,
      scope: m.scope,
      source: m.source ?? undefined,
      run_id: m.run_id ?? undefined,
      created_at: m.created_at === undefined ? undefined : Date.parse(m.created_at),
    }));
    return { stored: (await deps.memory.storeMany(inputs)).length };
  });
}
