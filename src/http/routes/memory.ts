import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../../lib/validate.js';
import type { MemoryService } from '../../memory/service.js';

const importSchema = z
  .object({
    memories: z
      .array(z.object({ text: z.string().min(1).max(65_536), tags: z.array(z.string().min(1).max(100)).max(50).optional(), scope: z.string().min(1).max(100).optional(), source: z.string().max(500).optional() }).strict())
      .min(1)
      .max(5000),
  })
  .strict();

/** Bulk import (the MCP tools cover the rest of /memory/*). */
export function memoryRoutes(app: FastifyInstance, deps: { memory: MemoryService }): void {
  app.post('/memory/import', async (req) => {
    const body = parseInput(importSchema, req.body ?? {});
    return { stored: (await deps.memory.storeMany(body.memories)).length };
  });
}
