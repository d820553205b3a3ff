import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { env, pipeline } from '@huggingface/transformers';
import { writeTinyBert } from '../helpers/tiny-bert.js';
import { tempDir } from '../helpers/repo.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function norm(v: number[]): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

describe('tiny random-weight BERT fixture', () => {
  it('loads offline in transformers.js and gives deterministic, distinct unit embeddings', async () => {
    const t = tempDir();
    const { allowRemoteModels, localModelPath } = env;
    cleanups.push(t.cleanup, () => {
      env.allowRemoteModels = allowRemoteModels;
      env.localModelPath = localModelPath;
    });
    const name = 'test/tiny-bert';
    const hidden = 16;
    const dir = writeTinyBert(t.dir, name, { hidden, seed: 7 });
    expect(dir).toBe(join(t.dir, 'test', 'tiny-bert'));
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }

    env.allowRemoteModels = false;
    env.localModelPath = t.dir;
    const fe = await pipeline('feature-extraction', name, { dtype: 'fp32' });
    cleanups.push(() => fe.dispose());

    const texts = ['hello world', 'a longer sentence about testing', 'hello world'];
    const out = await fe(texts, { pooling: 'mean', normalize: true });
    expect(out.dims).toEqual([texts.length, hidden]);
    const vectors = out.tolist() as number[][];
    for (const v of vectors) {
      expect(v.every(Number.isFinite)).toBe(true);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    expect(vectors[2]).toEqual(vectors[0]);
    expect(vectors[1]).not.toEqual(vectors[0]);
    // Padding is masked out, so embedding a text alone matches embedding it in a padded batch.
    const alone = await fe('hello world', { pooling: 'mean', normalize: true });
    expect((alone.tolist() as number[][])[0]).toEqual(vectors[0]);

    // Words outside the vocabulary still map to "##" pieces, not [UNK].
    const tokens = fe.tokenizer.tokenize('zyxwvut hello');
    expect(tokens).not.toContain('[UNK]');
    expect(tokens).toContain('hello');
  });
});
