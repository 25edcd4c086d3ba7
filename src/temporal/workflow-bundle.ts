// The Temporal workflow bundle (webpack, seconds of CPU). `npm run build` makes it once into dist/; a worker
// loads that one ready-made. Running from sources (tests, tsx), a worker builds it on first use and caches it
// under the state folder. Either way it is found by the digest of what it is made of: the workflow sources, the
// pure contracts and activity types they import, and the SDK version (package-lock.json).
import { bundleWorkflowCode } from '@temporalio/worker';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { REPO_ROOT, type Config } from '../config';
import { blake3Hex } from '../hashing';
import type { Logger } from '../log';
import { writeFileAtomic } from '../write-file-atomic';

async function listSources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listSources(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out.sort();
}

/** The digest that names a bundle: its inputs' paths and bytes. */
export async function workflowSourcesDigest(): Promise<string> {
  const sources = [
    ...(await listSources(join(REPO_ROOT, 'workflows'))),
    ...(await listSources(join(REPO_ROOT, 'src', 'contracts'))),
    ...(await listSources(join(REPO_ROOT, 'activities'))),
    join(REPO_ROOT, 'package-lock.json'),
  ];
  const parts: string[] = [];
  for (const file of sources) parts.push(relative(REPO_ROOT, file), blake3Hex(await readFile(file)));
  return blake3Hex(parts.join('\n'));
}

const prebuiltPath = (digest: string, dir = join(REPO_ROOT, 'dist')) => join(dir, `workflows-${digest}.js`);

const quiet = (logger?: Logger) => ({
  trace() {},
  debug() {},
  info() {},
  warn: (m: string) => logger?.warn(m),
  error: (m: string) => logger?.error(m),
  log() {},
});

async function bundle(logger?: Logger): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: join(REPO_ROOT, 'workflows', 'index.ts'),
    logger: quiet(logger),
  });
  return code;
}

/** Called by `npm run build` (scripts/build.mjs): writes <outDir>/workflows-<digest>.js (outDir becomes dist/). */
export async function writePrebuiltWorkflowBundle(outDir: string): Promise<string> {
  const file = prebuiltPath(await workflowSourcesDigest(), outDir);
  await writeFileAtomic(file, await bundle());
  return file;
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The workflow bundle for a worker: the build's, else the state folder's cached one, else built (and cached). */
export async function workflowBundle(cfg: Pick<Config, 'stateDir'>, logger: Logger): Promise<{ code: string }> {
  const digest = await workflowSourcesDigest();
  const prebuilt = await readIfPresent(prebuiltPath(digest));
  if (prebuilt !== undefined) return { code: prebuilt };
  const cacheFile = join(cfg.stateDir, 'bundles', `workflows-${digest}.js`);
  const cached = await readIfPresent(cacheFile);
  if (cached !== undefined) return { code: cached };
  const started = performance.now();
  const code = await bundle(logger);
  await mkdir(join(cfg.stateDir, 'bundles'), { recursive: true });
  await writeFileAtomic(cacheFile, code);
  logger.info({ event: 'worker.bundle', ms: Math.round(performance.now() - started) }, 'workflow bundle built');
  return { code };
}
