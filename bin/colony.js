#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/index.js', import.meta.url);
if (!existsSync(entry)) {
  // A clone (or `npm link` of one) that was never built: say how, not "Cannot find module".
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`colony: not built yet; run \`npm run build\` in ${root}\n`);
  process.exit(1);
}
import(entry.href).then((m) => m.main(process.argv)).catch((err) => {
  process.stderr.write(`colony: ${err?.message ?? err}\n`);
  process.exit(1);
});
