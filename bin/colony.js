#!/usr/bin/env node
import('../dist/src/cli/index.js').then((m) => m.main(process.argv)).catch((err) => {
  process.stderr.write(`colony: ${err?.message ?? err}\n`);
  process.exit(1);
});
