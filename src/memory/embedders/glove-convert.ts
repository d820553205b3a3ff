// Entry point of the one-off GloVe conversion child process: `node glove-convert.js <json> <cache>`.
import { convertGlove } from './glove-cache.js';

const [source, target] = process.argv.slice(2);
if (!source || !target) {
  process.stderr.write('usage: glove-convert <package json> <cache file>\n');
  process.exit(2);
}
const { words } = convertGlove(source, target);
process.stderr.write(`converted ${words} words\n`);
