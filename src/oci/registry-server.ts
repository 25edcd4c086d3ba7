// The loopback OCI registry the supply-chain lane pushes to and pulls from: Debian's `docker-registry`
// (CNCF distribution) with worldloop's own config — no auth, storage under the state dir, loopback only.
// scripts/setup.sh does the same in bash; this is the version tests and the CLI use.
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config';
import { WorldloopError } from '../contracts/errors';
import { pidAlive, readPid, withLockFile } from '../lock-file';

const READY_TIMEOUT_MS = 30_000;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Debian's /usr/bin/docker-registry, else `docker-registry` or `registry` on the search path. */
export function ociRegistryBinary(searchPath = '/usr/local/bin:/usr/bin:/bin'): string | undefined {
  if (executable('/usr/bin/docker-registry')) return '/usr/bin/docker-registry';
  for (const name of ['docker-registry', 'registry']) {
    for (const dir of searchPath.split(delimiter)) {
      if (dir && executable(join(dir, name))) return join(dir, name);
    }
  }
  return undefined;
}

export function ociRegistryUrl(cfg: Config): string {
  return `http://${cfg.ociRegistry}`;
}

export function ociRegistryPaths(cfg: Config): {
  dir: string;
  config: string;
  data: string;
  pidFile: string;
  logFile: string;
} {
  const dir = join(cfg.stateDir, 'registry');
  return {
    dir,
    config: join(dir, 'config.yml'),
    data: join(dir, 'data'),
    pidFile: join(dir, 'registry.pid'),
    logFile: join(cfg.stateDir, 'logs', 'registry.log'),
  };
}

/** GET /v2/ answers 200: the registry speaks the distribution API and needs no auth. */
export async function ociRegistryAnswers(cfg: Config, timeoutMs = 2_000): Promise<boolean> {
  try {
    const res = await fetch(`${ociRegistryUrl(cfg)}/v2/`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** The config scripts/setup.sh writes too; keep the two identical. */
export function ociRegistryConfig(cfg: Config): string {
  const { data } = ociRegistryPaths(cfg);
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${data}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${cfg.ociRegistry}`,
    '',
  ].join('\n');
}

/** Starts the loopback registry unless one already answers at cfg.ociRegistry. */
export async function ensureOciRegistry(cfg: Config): Promise<{ url: string; started: boolean }> {
  const url = ociRegistryUrl(cfg);
  if (await ociRegistryAnswers(cfg)) return { url, started: false };
  const bin = ociRegistryBinary(cfg.searchPath);
  if (!bin) {
    throw new WorldloopError(
      'ERR_OCI',
      `nothing answers ${url}/v2/ and no registry binary is installed: run \`bash scripts/setup.sh\` (Debian: apt-get install docker-registry)`,
    );
  }
  const paths = ociRegistryPaths(cfg);
  await mkdir(paths.data, { recursive: true });
  await mkdir(join(cfg.stateDir, 'logs'), { recursive: true });

  // O_EXCL lock so two test runs do not start two registries on one port.
  const lock = join(paths.dir, 'start.lock');
  return withLockFile(lock, () => startOciRegistry(cfg, bin), {
    timeoutMs: READY_TIMEOUT_MS * 2,
    staleMs: READY_TIMEOUT_MS * 2,
    timeoutError: () =>
      new WorldloopError('ERR_OCI', `timed out waiting for ${lock} while another process starts the registry`),
  });
}

/** Starts `bin` detached and waits until it answers; the caller holds the start lock. */
async function startOciRegistry(cfg: Config, bin: string): Promise<{ url: string; started: boolean }> {
  const url = ociRegistryUrl(cfg);
  const paths = ociRegistryPaths(cfg);
  if (await ociRegistryAnswers(cfg)) return { url, started: false };
  const old = await readPid(paths.pidFile);
  if (old !== undefined && pidAlive(old)) process.kill(old, 'SIGTERM');
  await writeFile(paths.config, ociRegistryConfig(cfg));
  const logFd = openSync(paths.logFile, 'a');
  let exited: string | undefined;
  let pid: number | undefined;
  try {
    const child = spawn(bin, ['serve', paths.config], { detached: true, stdio: ['ignore', logFd, logFd] });
    child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
    child.once('error', (err) => (exited = err.message));
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(logFd);
  }
  if (pid !== undefined) await writeFile(paths.pidFile, `${pid}\n`);
  const readyBy = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (await ociRegistryAnswers(cfg, 1_000)) return { url, started: true };
    if (exited !== undefined || Date.now() > readyBy) {
      const tail = (await readFile(paths.logFile, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-10).join('\n');
      throw new WorldloopError(
        'ERR_OCI',
        `${bin} serve ${paths.config} ${exited ?? `did not answer ${url}/v2/ within ${READY_TIMEOUT_MS / 1000} s`}; log ${paths.logFile}:\n${tail}`,
      );
    }
    await sleep(200);
  }
}
