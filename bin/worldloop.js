#!/usr/bin/env node
// The CLI runs the compiled build in dist/ (`npm run build`; setup builds it). A missing or stale build is
// refused with ERR_BUILD_STALE rather than run: the code that runs is always the code in the sources.
// During development, `node bin/worldloop-dev.js …` runs the TypeScript sources directly through tsx.
// worldloop runs on Node >= 22: from an older Node it re-runs itself with the Node 24 setup installed (.tools/node).
import { existsSync, readFileSync } from 'node:fs';
import module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { staleReason } from './build-stamp.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SUPPORTED_NODE_MAJOR = 22;
const toolsNode = join(ROOT, '.tools', 'node');
const stale = staleReason(ROOT);
if (Number(process.versions.node.split('.')[0]) < SUPPORTED_NODE_MAJOR && existsSync(toolsNode)) {
  // Imported here only: node:child_process costs every start ~10 ms, and only an old Node re-runs itself.
  const { spawnSync } = await import('node:child_process');
  const child = spawnSync(toolsNode, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  if (child.signal) process.kill(process.pid, child.signal);
  process.exitCode = child.status ?? 1;
} else if (stale) {
  // The catalogue's entry (src/contracts/errors.ts), repeated here because the catalogue is part of the build;
  // tests/unit/cli-build.test.ts keeps the two equal.
  const code = 'ERR_BUILD_STALE';
  const message = `${stale}; this CLI refuses to run old code`;
  const explanation =
    'The compiled CLI in dist/ is missing or was built from other sources than the ones in this checkout, so running it would run old code.';
  const action =
    'To fix: run `npm run build` (setup does it too), or `node bin/worldloop-dev.js` to run the sources through tsx.';
  if (process.argv.includes('--json'))
    process.stdout.write(`${JSON.stringify({ ok: false, code, message, explanation, action })}\n`);
  else process.stderr.write(`${code}: ${message}\n  why: ${explanation}\n  ${action}\n`);
  process.exitCode = 1;
} else {
  // V8's code cache for the modules below, kept by Node (NODE_COMPILE_CACHE picks the folder, default under the
  // temp folder; NODE_DISABLE_COMPILE_CACHE=1 turns it off): a start compiles them from the cache instead of the
  // source. Keyed by each file's content, so a new build is never served old code (docs/benchmarks.md).
  module.enableCompileCache?.();
  const { main } = await import('../dist/cli.js');
  // The top-level listing, recorded by the build, so a command line naming no command loads none.
  const summaries = JSON.parse(readFileSync(join(ROOT, 'dist', 'commands.json'), 'utf8'));
  await main(process.argv, { summaries });
}
