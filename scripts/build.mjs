// `npm run build`: compiles the CLI and worker (src/, activities/, workflows/) into dist/ as ES modules, one
// chunk per lazily imported part so a light command loads only what it uses, then bundles the workflow code
// for the Temporal worker once (no CLI call bundles it), and writes the build stamp bin/worldloop.js checks.
//
//   node scripts/build.mjs            build when the sources changed since the last build
//   node scripts/build.mjs --force    build anyway
//
// Two builds at once (the unit and integration lanes' global setups) take turns through a lock folder, and the
// new dist/ replaces the old one by rename, so a CLI starting meanwhile sees one build or the other.
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { sourceDigest, sourceFiles, staleReason } from '../bin/build-stamp.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const LOCK = join(ROOT, '.build.lock');
/** A lock older than this is left over from a killed build. */
const LOCK_STALE_MS = 300_000;

/**
 * A deep import of a CommonJS package without its extension (`@temporalio/common/lib/search-attributes`) works in
 * TypeScript's bundler resolution but not in Node's ES module loader: keep it external, with the file's own name.
 */
const requireFromRoot = createRequire(join(ROOT, 'package.json'));
const deepImportExtensions = {
  name: 'deep-import-extensions',
  setup(b) {
    b.onResolve({ filter: /^(@[^/.][^/]*\/)?[^/.][^/]*\/.+[^/]$/ }, (args) => {
      if (/\.(c|m)?js$|\.json$/.test(args.path)) return undefined;
      let resolved;
      try {
        resolved = requireFromRoot.resolve(args.path);
      } catch {
        return undefined;
      }
      return resolved.endsWith(`${args.path}.js`) ? { path: `${args.path}.js`, external: true } : undefined;
    });
  },
};

/**
 * Dependencies compiled into dist/ instead of loaded from node_modules: small, pure JavaScript, and on the path of
 * every `worldloop run`. Loaded from node_modules, zod alone is about a hundred files to resolve and read on each
 * CLI start; compiled into the chunks it is one file (docs/benchmarks.md, "Front door"). Native addons, the
 * Temporal SDK and everything with its own loading stay in node_modules.
 */
const COMPILED_IN = ['zod', 'commander', 'smol-toml', '@noble/hashes', 'hash-wasm'];
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const EXTERNAL = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies })
  .filter((name) => !COMPILED_IN.includes(name))
  .flatMap((name) => [name, `${name}/*`]);
/** commander is CommonJS: compiled into an ES module chunk, its `require('node:events')` needs a real require. */
const REQUIRE_BANNER =
  "import { createRequire as __wlCreateRequire } from 'node:module'; const require = __wlCreateRequire(import.meta.url);";

/**
 * src/config.ts (loaded by every command) parses the environment with zod/mini. Compiled with the rest, its zod
 * files would share chunks with the full zod of the request schemas, every locale included (~660 kB a `run` would
 * load); compiled as a copy of their own, reached only from the config, they tree-shake to ~50 kB. The two copies
 * share their settings (zod keeps them on globalThis) and never exchange schemas.
 */
const CONFIG_ZOD = /^zod\/(mini|v4\/locales\/en\.js)$/;
const configZodCopy = {
  name: 'config-zod-copy',
  setup(b) {
    b.onResolve({ filter: CONFIG_ZOD }, (args) =>
      args.importer === join(ROOT, 'src', 'config.ts')
        ? { path: fileURLToPath(import.meta.resolve(args.path)), namespace: 'config-zod' }
        : undefined,
    );
    b.onResolve({ filter: /.*/, namespace: 'config-zod' }, (args) => ({
      path: resolve(dirname(args.importer), args.path),
      namespace: 'config-zod',
    }));
    b.onLoad({ filter: /.*/, namespace: 'config-zod' }, (args) => ({
      contents: readFileSync(args.path, 'utf8'),
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

async function withLock(fn) {
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let age;
      try {
        age = Date.now() - statSync(LOCK).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (age > LOCK_STALE_MS) rmSync(LOCK, { recursive: true, force: true });
      else await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

async function buildInto(out) {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { cli: 'src/cli/main.ts', 'workflow-bundle': 'src/temporal/workflow-bundle.ts' },
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Dependencies stay in node_modules (native addons, the Temporal SDK's own loading) except COMPILED_IN.
    external: EXTERNAL,
    banner: { js: REQUIRE_BANNER },
    tsconfig: 'tsconfig.build.json',
    sourcemap: true,
    // Every chunk sits directly in dist/, one level below the root, as src/config.ts and src/version.ts are:
    // their `new URL('..', import.meta.url)` finds the repository root from either place.
    chunkNames: '[name]-[hash]',
    metafile: true,
    plugins: [configZodCopy, deepImportExtensions],
    logLevel: 'warning',
  });
  writeFileSync(join(out, 'meta.json'), JSON.stringify(result.metafile));
  // The top-level command listing, so `worldloop --help` loads no command module (src/cli/main.ts).
  const { commandSummaries } = await import(join(out, 'cli.js'));
  writeFileSync(join(out, 'commands.json'), JSON.stringify(await commandSummaries(), null, 2) + '\n');
  // The Temporal workflow bundle (webpack, seconds): once here, so workers load it ready-made.
  const { writePrebuiltWorkflowBundle } = await import(join(out, 'workflow-bundle.js'));
  await writePrebuiltWorkflowBundle(out);
}

const forced = process.argv.includes('--force');
await withLock(async () => {
  const reason = forced ? 'forced' : staleReason(ROOT);
  if (!reason) {
    process.stdout.write('build: dist/ is up to date\n');
    return;
  }
  // Taken before reading any source: an edit made while building leaves the build stale, as it is.
  const started = Date.now();
  const files = sourceFiles(ROOT);
  const digest = sourceDigest(ROOT, files);
  const out = join(ROOT, `.dist-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  try {
    await buildInto(out);
    writeFileSync(
      join(out, 'build-stamp.json'),
      JSON.stringify({ source_digest: digest, files: files.length, built_at_ms: started }, null, 2) + '\n',
    );
    const old = join(ROOT, `.dist-old-${process.pid}`);
    try {
      renameSync(DIST, old);
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
    }
    renameSync(out, DIST);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  process.stdout.write(`build: dist/ built in ${Date.now() - started} ms (${reason})\n`);
});
