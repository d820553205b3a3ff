import { join } from 'node:path';
import { ColonyError } from '../../lib/errors.js';
import { requireEmbedderPackage } from './packages.js';
import type { Embedder, EmbedderSettings } from './types.js';

import type { FeatureExtractionPipeline } from '@huggingface/transformers';

type Transformers = typeof import('@huggingface/transformers');
type Extractor = FeatureExtractionPipeline;

/** The package (added on demand, see packages.ts), or an error saying how to add it. */
export async function importTransformers(cacheDir: string): Promise<Transformers> {
  return requireEmbedderPackage<Transformers>('transformers', cacheDir);
}

/** Where models are looked for: the configured directory, else Colony's cache (where downloads also go). */
export const modelRoot = (s: Pick<EmbedderSettings, 'modelDir' | 'cacheDir'>): string => s.modelDir ?? join(s.cacheDir, 'models');

/**
 * Sentence embeddings from an ONNX transformer (e.g. Xenova/all-MiniLM-L6-v2) through
 * @huggingface/transformers: mean pooling over the attention mask, L2-normalised, in
 * batches. Models come from a local directory; the hub is only asked when configured
 * to be, with download progress reported.
 */
export class TransformersEmbedder implements Embedder {
  readonly id: string;
  readonly lexical = false;

  private constructor(
    model: string,
    private readonly extractor: Extractor,
    private readonly batchSize: number,
  ) {
    this.id = `transformers:${model}`;
  }

  static async load(model: string, settings: EmbedderSettings, log: (msg: string) => void = () => {}): Promise<TransformersEmbedder> {
    const { env, pipeline } = await importTransformers(settings.cacheDir);
    const root = modelRoot(settings);
    env.allowLocalModels = true;
    env.localModelPath = root;
    env.allowRemoteModels = settings.allowRemoteModels;
    if (settings.remoteHost) env.remoteHost = settings.remoteHost.endsWith('/') ? settings.remoteHost : `${settings.remoteHost}/`;
    env.cacheDir = join(settings.cacheDir, 'models');
    const reported = new Map<string, number>();
    let extractor: Extractor;
    try {
      extractor = (await pipeline('feature-extraction', model, {
        dtype: 'fp32',
        // One thread per session: the daemon runs several worker threads, each with its own
        // session, and they share the cores rather than each claiming all of them.
        session_options: { intraOpNumThreads: 1, interOpNumThreads: 1 },
        progress_callback: (p) => {
          if (p.status !== 'progress') return;
          // One line per file per 10%: enough to see a download move, not a flood.
          const step = Math.floor(p.progress / 10);
          if ((reported.get(p.file) ?? -1) >= step) return;
          reported.set(p.file, step);
          log(`downloading ${p.name}/${p.file}: ${p.progress.toFixed(0)}% of ${(p.total / 1e6).toFixed(1)} MB`);
        },
      })) as Extractor;
    } catch (err) {
      const hint = settings.allowRemoteModels
        ? 'check the model id and the network'
        : `put the model under ${join(root, model)} (config.json, tokenizer.json, onnx/model.onnx) or set embed_remote_models to download it`;
      throw new ColonyError('embedder_unavailable', `cannot load transformers model '${model}': ${(err as Error).message.split('\n')[0]}; ${hint}`, 503);
    }
    return new TransformersEmbedder(model, extractor, settings.batchSize);
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      const batch = texts.slice(i, i + this.batchSize);
      const tensor = await this.extractor(batch, { pooling: 'mean', normalize: true });
      const data = tensor.data as Float32Array;
      const dim = data.length / batch.length;
      for (let j = 0; j < batch.length; j++) out.push(data.slice(j * dim, (j + 1) * dim));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.extractor.dispose();
  }
}
