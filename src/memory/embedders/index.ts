import { z } from 'zod';
import { InvalidInputError } from '../../lib/errors.js';
import { ensureGloveCache, gloveCachePath, gloveSourcePath } from './glove-cache.js';
import { GLOVE_ID, GloveEmbedder } from './glove.js';
import { LexicalEmbedder } from './lexical.js';
import { OpenAIEmbedder } from './openai.js';
import { TransformersEmbedder, importTransformers } from './transformers.js';
import type { Embedder, EmbedderSettings } from './types.js';

export type { Embedder, EmbedderSettings } from './types.js';
export { cosine, normaliseVector } from './types.js';
export { LexicalEmbedder } from './lexical.js';

export type EmbedderSpec = { kind: 'lexical' } | { kind: 'glove' } | { kind: 'transformers'; model: string } | { kind: 'openai'; model: string };

const modelName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/, 'a model name').refine((m) => !m.split('/').includes('..'), 'no ..');

/** `lexical` | `glove` | `transformers:<model>` | `openai:<model>`, checked. */
export function parseEmbedderSpec(spec: string): EmbedderSpec {
  if (spec === 'lexical' || spec === 'glove') return { kind: spec };
  const m = /^(transformers|openai):(.+)$/.exec(spec);
  if (m && modelName.safeParse(m[2]).success) return { kind: m[1] as 'transformers' | 'openai', model: m[2]! };
  throw new InvalidInputError(`embedder: '${spec}' is not one of lexical, glove, transformers:<model>, openai:<model>`, { fields: ['embedder'] });
}

/** The id vectors are stored under, known without loading anything. */
export function embedderId(spec: string): string {
  const s = parseEmbedderSpec(spec);
  switch (s.kind) {
    case 'lexical':
      return new LexicalEmbedder().id;
    case 'glove':
      return GLOVE_ID;
    default:
      return `${s.kind}:${s.model}`;
  }
}

/**
 * Fail early, at start-up, on what would otherwise fail on every call: a malformed spec or
 * a missing embedder package. (A missing model or an unreachable endpoint is reported when
 * first used.)
 */
export async function checkEmbedder(settings: EmbedderSettings): Promise<void> {
  const s = parseEmbedderSpec(settings.spec);
  if (s.kind === 'glove') gloveSourcePath(settings.cacheDir);
  if (s.kind === 'transformers') await importTransformers(settings.cacheDir);
}

/**
 * Build the embedder the settings name (loading data or models as needed). With
 * `prepared`, one-off preparation (the GloVe conversion) is known to be done already and
 * is not attempted: worker threads must not each start a gigabyte-sized conversion.
 */
export async function createEmbedder(settings: EmbedderSettings, log?: (msg: string) => void, opts: { prepared?: boolean } = {}): Promise<Embedder> {
  const s = parseEmbedderSpec(settings.spec);
  switch (s.kind) {
    case 'lexical':
      return new LexicalEmbedder();
    case 'glove':
      return GloveEmbedder.fromCache(opts.prepared ? gloveCachePath(settings.cacheDir) : await ensureGloveCache(settings.cacheDir, log));
    case 'transformers':
      return TransformersEmbedder.load(s.model, settings, log);
    case 'openai':
      return new OpenAIEmbedder(s.model, settings);
  }
}

/**
 * Work to do once before an embedder is used, in the daemon's own thread so it is logged
 * there: converting the GloVe data. (transformers models load, and report downloads, in the
 * workers.)
 */
export async function prepareEmbedder(settings: EmbedderSettings, log: (msg: string) => void): Promise<void> {
  if (parseEmbedderSpec(settings.spec).kind === 'glove') await ensureGloveCache(settings.cacheDir, log);
}
