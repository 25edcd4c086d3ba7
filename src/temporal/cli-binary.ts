// Finds the Temporal CLI (which embeds the dev server and Web UI) the same way scripts/setup.sh does:
// WORLDLOOP_TEMPORAL_BIN, `temporal` on PATH, the per-machine cache, then a `go install` into the cache.
import { execFile, spawn } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../config';
import { WorldloopError } from '../contracts/errors';

const execFileAsync = promisify(execFile);

/** The CLI release worldloop is tested with; `go install` builds exactly this. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

export type TemporalCliSource = 'env' | 'path' | 'cache' | 'built';

export interface TemporalCli {
  readonly path: string;
  readonly version: string;
  readonly source: TemporalCliSource;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first `name` on PATH, as a shell would find it. */
export async function whichOnPath(name: string, pathVar: string | undefined): Promise<string | undefined> {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (dir && (await isExecutable(join(dir, name)))) return join(dir, name);
  }
  return undefined;
}

/**
 * `temporal --version`'s first line. A `go install` build reports 0.0.0-DEV (the release version is only
 * stamped by the release pipeline), so when Go is at hand the module version is read from the binary.
 */
export async function temporalCliVersion(path: string, searchPath?: string): Promise<string> {
  const { stdout } = await execFileAsync(path, ['--version'], { timeout: 15_000 });
  const line = stdout.trim().split('\n')[0] ?? '';
  if (!line.includes('0.0.0-DEV') || searchPath === undefined) return line;
  const go = await whichOnPath('go', searchPath);
  if (!go) return line;
  try {
    const { stdout: info } = await execFileAsync(go, ['version', '-m', path], { timeout: 15_000 });
    const mod = /^\s*mod\s+github\.com\/temporalio\/cli\s+(\S+)/m.exec(info)?.[1];
    return mod ? `${line} [built from github.com/temporalio/cli ${mod}]` : line;
  } catch {
    return line;
  }
}

/** Where `go install` puts the CLI; stable per machine so fresh clones reuse one build. */
export function cachedTemporalCliPath(cfg: Config): string {
  return join(cfg.toolsDir, 'bin', 'temporal');
}

/** Locates the CLI without building it; undefined when a build would be needed. */
export async function locateTemporalCli(cfg: Config): Promise<{ path: string; source: TemporalCliSource } | undefined> {
  const fromEnv = cfg.temporal.bin;
  if (fromEnv) {
    if (!(await isExecutable(fromEnv))) {
      throw new WorldloopError(
        'ERR_CONFIG_INVALID',
        `WORLDLOOP_TEMPORAL_BIN=${fromEnv} is not an executable file; fix the path or unset it`,
      );
    }
    return { path: fromEnv, source: 'env' };
  }
  const onPath = await whichOnPath('temporal', cfg.searchPath);
  if (onPath) return { path: onPath, source: 'path' };
  const cached = cachedTemporalCliPath(cfg);
  if (await isExecutable(cached)) return { path: cached, source: 'cache' };
  return undefined;
}

/** Builds the CLI with the Go toolchain into the cache (1–4 minutes when Go's caches are cold). */
export async function buildTemporalCli(cfg: Config, onOutput?: (chunk: string) => void): Promise<string> {
  const go = await whichOnPath('go', cfg.searchPath);
  if (!go) {
    throw new WorldloopError(
      'ERR_TEMPORAL_UNAVAILABLE',
      'no Temporal CLI found and Go is not installed to build it: install the Temporal CLI (https://docs.temporal.io/cli#install), set WORLDLOOP_TEMPORAL_BIN, or install Go >= 1.23 and run `bash scripts/setup.sh`',
    );
  }
  const binDir = join(cfg.toolsDir, 'bin');
  await mkdir(binDir, { recursive: true });
  const target = `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`;
  let tail = '';
  const code = await new Promise<number | null>((resolvePromise, reject) => {
    const child = spawn(go, ['install', target], {
      // go needs the caller's whole environment (HOME, GOPATH, GOPROXY, proxies); the snapshot is that.
      env: { ...cfg.secretEnv, GOBIN: binDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      tail = (tail + text).slice(-4000);
      onOutput?.(text);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', resolvePromise);
  });
  if (code !== 0) {
    throw new WorldloopError('ERR_TEMPORAL_UNAVAILABLE', `go install ${target} failed (exit ${code}): ${tail.trim()}`);
  }
  return cachedTemporalCliPath(cfg);
}

/** Finds the Temporal CLI, building it with `go install` into the tools cache when nothing else has one. */
export async function findTemporalCli(cfg: Config): Promise<TemporalCli> {
  const found = await locateTemporalCli(cfg);
  const path = found?.path ?? (await buildTemporalCli(cfg));
  const source = found?.source ?? 'built';
  try {
    return { path, source, version: await temporalCliVersion(path, cfg.searchPath) };
  } catch (err) {
    throw new WorldloopError('ERR_TEMPORAL_UNAVAILABLE', `${path} --version failed: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
