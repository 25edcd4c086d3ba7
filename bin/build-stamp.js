// The CLI's build stamp: which sources a build of dist/ was made from. `npm run build` writes it; bin/worldloop.js
// checks it on every start, so the CLI never runs code older than its sources. Plain JavaScript with no imports
// beyond node:, because it runs before (and without) the build.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// node:crypto is required only when the sources are hashed (rarely): loading it costs every CLI start ~10 ms.
const require = createRequire(import.meta.url);

/** Folders and files whose content goes into dist/ (the processor bundles are built by `worldloop build`). */
const SOURCE_DIRS = ['src', 'activities', 'workflows'];
const SOURCE_FILES = ['package.json', 'package-lock.json', 'tsconfig.build.json', 'scripts/build.mjs'];

export const STAMP_FILE = 'dist/build-stamp.json';

function walk(root, dir, out) {
  if (!existsSync(join(root, dir))) return;
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) walk(root, rel, out);
    else if (entry.name.endsWith('.ts')) out.push(rel);
  }
}

/** Every source file, repository-relative and sorted. */
export function sourceFiles(root) {
  const out = SOURCE_FILES.filter((file) => existsSync(join(root, file)));
  for (const dir of SOURCE_DIRS) walk(root, dir, out);
  return out.sort();
}

/** A digest of the sources' names and bytes: what the build was made from. */
export function sourceDigest(root, files = sourceFiles(root)) {
  const hash = require('node:crypto').createHash('sha256');
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(root, file)))
      .update('\0');
  return hash.digest('hex');
}

/**
 * Why dist/ does not match the sources, or undefined when it does. Cheap on the common path: one stat per source
 * file; the sources are hashed only when one is newer than the build (a checkout that touched files without
 * changing them still matches).
 */
export function staleReason(root) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(root, STAMP_FILE), 'utf8'));
  } catch {
    return 'there is no build (dist/ is missing)';
  }
  const files = sourceFiles(root);
  const newer = files.some((file) => statSync(join(root, file)).mtimeMs > stamp.built_at_ms);
  if (!newer && files.length === stamp.files) return undefined;
  return sourceDigest(root, files) === stamp.source_digest ? undefined : 'the sources changed since the last build';
}
