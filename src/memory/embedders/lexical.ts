import { normaliseVector, type Embedder } from './types.js';

/**
 * The default embedder: feature hashing. Each lowercased word and each character trigram
 * of a word adds ±weight to one of `dim` buckets (FNV-1a picks bucket and sign), then the
 * vector is L2-normalised. No model, no download, microseconds per text. It knows nothing
 * of meaning — "password" and "credentials" share no features — but it matches inflections
 * and partial words, which complements BM25's whole-word view in hybrid recall.
 */
export class LexicalEmbedder implements Embedder {
  readonly id: string;
  readonly lexical = true;

  constructor(readonly dim = 256) {
    this.id = `lexical-${dim}`;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): Float32Array {
    const v = new Float32Array(this.dim);
    const words = text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? [];
    for (const w of words) {
      this.add(v, `w:${w}`, 1);
      if (w.length >= 3) {
        const padded = `^${w}$`;
        for (let i = 0; i + 3 <= padded.length; i++) this.add(v, `g:${padded.slice(i, i + 3)}`, 0.35);
      }
    }
    return normaliseVector(v);
  }

  private add(v: Float32Array, feature: string, weight: number): void {
    let h = 0x811c9dc5;
    for (let i = 0; i < feature.length; i++) {
      h ^= feature.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    const idx = (h >>> 1) % this.dim;
    v[idx]! += h & 1 ? weight : -weight;
  }
}
