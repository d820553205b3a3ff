import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ColonyError } from '../../lib/errors.js';
import { EMBEDDER_PACKAGES, resolveEmbedderPackage } from './packages.js';
import { PACKAGE_ROOT } from '../../lib/package-root.js';

export const GLOVE_PACKAGE = EMBEDDER_PACKAGES.glove.name;

/**
 * The binary cache: what the package's 300 MB JSON holds, in ~40 MB that load in tens of
 * milliseconds. Layout (little-endian):
 *   0  magic "CLNYGLV1"   8  count u32   12  dim u32   16  words byte length u32   20  pad
 *   24 scales f32[count]  then vectors i8[count × dim]  then words, UTF-8, '\n'-separated,
 * in the package's order (most frequent first, so the index is a frequency rank).
 * Each vector is unit length before quantising; value = i8 × scale.
 */
const MAGIC = 'CLNYGLV1';
const HEADER = 24;
const CACHE_FILE = 'glove-sg-100d-q8.bin';

export interface GloveTable {
  dim: number;
  /** Word → row (= frequency rank). */
  index: Map<string, number>;
  scales: Float32Array;
  vectors: Int8Array;
}

export const gloveCachePath = (cacheDir: string): string => join(cacheDir, CACHE_FILE);

/** The package's JSON file; a clear error naming the install command when it is absent. */
export function gloveSourcePath(cacheDir: string): string {
  return resolveEmbedderPackage('glove', cacheDir);
}

/** Quantise the package's JSON into the cache format, written atomically. Needs ~1 GB of heap: run it in its own process. */
export function convertGlove(source: string, target: string): { words: number } {
  const data = JSON.parse(readFileSync(source, 'utf8')) as { dimensions: number; vectors: Record<string, number[]> };
  const dim = data.dimensions;
  const entries = Object.entries(data.vectors).sort((a, b) => a[1][dim + 1]! - b[1][dim + 1]!);
  const count = entries.length;
  const words = Buffer.from(entries.map(([w]) => w.replace(/\n/g, ' ')).join('\n'), 'utf8');
  const out = Buffer.alloc(HEADER + count * 4 + count * dim + words.length);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(count, 8);
  out.writeUInt32LE(dim, 12);
  out.writeUInt32LE(words.length, 16);
  const scales = new Float32Array(out.buffer, out.byteOffset + HEADER, count);
  const vectors = new Int8Array(out.buffer, out.byteOffset + HEADER + count * 4, count * dim);
  entries.forEach(([, v], row) => {
    let norm = 0;
    for (let i = 0; i < dim; i++) norm += v[i]! * v[i]!;
    norm = Math.sqrt(norm) || 1;
    let max = 0;
    for (let i = 0; i < dim; i++) max = Math.max(max, Math.abs(v[i]! / norm));
    const scale = max / 127 || 1;
    scales[row] = scale;
    for (let i = 0; i < dim; i++) vectors[row * dim + i] = Math.round(v[i]! / norm / scale);
  });
  words.copy(out, HEADER + count * 4 + count * dim);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, out);
  renameSync(tmp, target);
  return { words: count };
}

export function loadGlove(file: string): GloveTable {
  if (!existsSync(file)) throw new ColonyError('embedder_unavailable', `the GloVe cache ${file} is not built yet`, 503);
  const buf = readFileSync(file);
  if (buf.length < HEADER || buf.toString('latin1', 0, 8) !== MAGIC) throw new ColonyError('embedder_unavailable', `${file} is not a GloVe cache; delete it to rebuild`, 503);
  const count = buf.readUInt32LE(8);
  const dim = buf.readUInt32LE(12);
  const wordsLen = buf.readUInt32LE(16);
  const wordsAt = HEADER + count * 4 + count * dim;
  if (buf.length !== wordsAt + wordsLen) throw new ColonyError('embedder_unavailable', `${file} is truncated; delete it to rebuild`, 503);
  // Copies, so the arrays are aligned whatever offset the Buffer pool gave us.
  const scales = new Float32Array(buf.buffer.slice(buf.byteOffset + HEADER, buf.byteOffset + HEADER + count * 4));
  const vectors = new Int8Array(buf.buffer.slice(buf.byteOffset + HEADER + count * 4, buf.byteOffset + wordsAt));
  const index = new Map<string, number>();
  buf.toString('utf8', wordsAt).split('\n').forEach((w, i) => index.set(w, i));
  return { dim, index, scales, vectors };
}

const pending = new Map<string, Promise<string>>();

/**
 * The cache file, converting the package's JSON first when it is missing. Conversion runs
 * in a child process so the ~1 GB it takes is returned to the system when it ends; the
 * atomic rename makes concurrent conversions (threads, processes) harmless.
 */
export function ensureGloveCache(cacheDir: string, log: (msg: string) => void = () => {}): Promise<string> {
  const target = gloveCachePath(cacheDir);
  if (existsSync(target)) return Promise.resolve(target);
  let p = pending.get(target);
  if (!p) {
    const source = gloveSourcePath(cacheDir);
    p = runConverter(source, target, log).finally(() => pending.delete(target));
    pending.set(target, p);
  }
  return p;
}

async function runConverter(source: string, target: string, log: (msg: string) => void): Promise<string> {
  const script = join(PACKAGE_ROOT, 'dist', 'src', 'memory', 'embedders', 'glove-convert.js');
  log(`converting GloVe vectors from ${GLOVE_PACKAGE} into ${target} (once; takes a few seconds)`);
  const started = Date.now();
  const stderr: string[] = [];
  let pid: number | undefined;
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=4096', script, source, target], { stdio: ['ignore', 'ignore', 'pipe'] });
    pid = child.pid;
    child.stderr.on('data', (d: Buffer) => stderr.push(d.toString()));
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0 || !existsSync(target)) {
    rmSync(`${target}.${pid}.tmp`, { force: true });
    throw new ColonyError('embedder_unavailable', `converting GloVe vectors failed (exit ${code}): ${stderr.join('').trim().slice(-500)}`, 503);
  }
  log(`GloVe cache ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return target;
}
