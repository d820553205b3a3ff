/**
 * A text embedder. Implementations are pure functions of the text (same input, same
 * vector), so vectors stored with one embedder id stay valid until the embedder changes.
 */
export interface Embedder {
  /** Stable id stored with each vector, e.g. `lexical`, `glove`, `transformers:Xenova/all-MiniLM-L6-v2`. */
  readonly id: string;
  /** Vector length. */
  readonly dim: number;
  /** Embed a batch; returns one L2-normalised vector per text, in order. */
  embed(texts: string[]): Promise<Float32Array[]>;
  /** Release resources (sessions, files). */
  close?(): Promise<void>;
}
