/**
 * A text embedder. Implementations are pure functions of the text (same input, same
 * vector), so vectors stored under one embedder id stay valid until the embedder changes.
 */
export interface Embedder {
  /** Stable id stored with each vector, e.g. `lexical-256`, `glove-100d`, `transformers:Xenova/all-MiniLM-L6-v2`. */
  readonly id: string;
  /**
   * True when vectors only restate the words (feature hashing): similarity then re-ranks
   * the full-text candidates. False for embedders that know meaning, whose nearest
   * neighbours are searched across the whole scope.
   */
  readonly lexical: boolean;
  /** Embed a batch; one L2-normalised vector per text, in order. */
  embed(texts: string[]): Promise<Float32Array[]>;
  /** Words near a word in meaning (word-vector embedders), for query expansion. */
  neighbours?(word: string, n: number): string[];
  /** Release resources (sessions, sockets). */
  close?(): Promise<void>;
}

/**
 * Everything needed to build an embedder, as plain data: it crosses into worker threads,
 * which build their own instance from it.
 */
export interface EmbedderSettings {
  /** `lexical` | `glove` | `transformers:<model>` | `openai:<model>`. */
  spec: string;
  /** Where converted data (the GloVe binary cache) and downloaded models are kept. */
  cacheDir: string;
  /** Local directory of transformers models (`<dir>/<org>/<model>/…`). */
  modelDir?: string;
  /** Let transformers download models from the Hugging Face hub. */
  allowRemoteModels: boolean;
  /** Where downloads come from instead of the Hugging Face hub (a mirror). */
  remoteHost?: string;
  /** OpenAI-compatible API root, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`. */
  baseUrl: string;
  apiKey?: string;
  /** Texts per request or inference batch. */
  batchSize: number;
}

/** Scale a vector to unit length in place (a zero vector stays zero). */
export function normaliseVector(v: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i]! /= norm;
  return v;
}

/** Dot product; the cosine similarity of unit vectors. Vectors of another length score 0. */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
