// The embedded default (docs/architecture.md §11): a Temporal dev server that worldloop starts in the background on
// first use (SQLite under the state dir, Web UI on :8233, worldloop's search attributes registered) and
// reuses afterwards. Readiness means a real gRPC call and a real UI response, never just an open port.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import type { Config } from '../config';
import { WorldloopError } from '../contracts/errors';
import { WORLDLOOP_SEARCH_ATTRIBUTES } from '../contracts/search-attributes';
import { pidAlive, readPid, withLockFile } from '../lock-file';
import { findTemporalCli } from './cli-binary';
import { devServerAddress, devServerUiUrl } from './dev-server-address';

const READY_TIMEOUT_MS = 90_000;
const LOCK_TIMEOUT_MS = 120_000;
/** A lock older than this whose holder we cannot prove alive is taken over. */
const LOCK_STALE_MS = 150_000;

export interface DevServerPaths {
  readonly dir: string;
  readonly dbFile: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly lockFile: string;
  /** Holds the pid of our server once it answered with worldloop's search attributes registered. */
  readonly readyFile: string;
}

export interface DevServerInfo {
  readonly address: string;
  readonly uiUrl: string;
  readonly pid: number;
  readonly started: boolean;
}

export interface DevServerStatus {
  readonly address: string;
  readonly uiUrl: string;
  readonly namespace: string;
  /** The pid from our pid file when that process is alive; undefined for a server we did not start. */
  readonly pid: number | undefined;
  /** A gRPC call to the address succeeded. */
  readonly healthy: boolean;
  readonly uiOk: boolean;
  readonly dbFile: string;
  readonly logFile: string;
  readonly serverVersion: string | undefined;
}

export function devServerPaths(cfg: Config): DevServerPaths {
  const dir = join(cfg.stateDir, 'temporal');
  return {
    dir,
    dbFile: join(dir, 'dev.sqlite'),
    pidFile: join(dir, 'dev-server.pid'),
    logFile: join(dir, 'dev-server.log'),
    lockFile: join(dir, 'dev-server.lock'),
    readyFile: join(dir, 'dev-server.ready'),
  };
}

/** Re-exported: callers (and tests) check the dev server's pid with it. */
export { pidAlive } from '../lock-file';

export { devServerAddress, devServerUiUrl } from './dev-server-address';

/** Resolves false quickly when nothing listens (a refused connection), so a stopped server is reported at once. */
function tcpOpen(address: string, timeoutMs: number): Promise<boolean> {
  const match = /^(.+):(\d+)$/.exec(address);
  if (!match) return Promise.resolve(true); // not host:port; let the gRPC client decide
  const host = match[1]!.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host, port: Number(match[2]) });
    const done = (open: boolean): void => {
      socket.destroy();
      resolvePromise(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** One gRPC round trip (system info + the namespace); returns the server version, or undefined if unreachable. */
export async function probeTemporal(
  address: string,
  namespace: string,
  timeoutMs = 2_000,
): Promise<{ serverVersion: string } | undefined> {
  if (!(await tcpOpen(address, timeoutMs))) return undefined;
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    const deadline = new Date(Date.now() + timeoutMs);
    const info = await connection.withDeadline(deadline, () => connection!.workflowService.getSystemInfo({}));
    await connection.withDeadline(deadline, () => connection!.workflowService.describeNamespace({ namespace }));
    return { serverVersion: info.serverVersion ?? '' };
  } catch {
    return undefined;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

export async function httpOk(url: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Registers any of worldloop's search attributes the namespace lacks (idempotent). Returns the names added. */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const have = { ...existing.systemAttributes, ...existing.customAttributes };
  const missing = WORLDLOOP_SEARCH_ATTRIBUTES.filter((sa) => !(sa.name in have));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map((sa) => [sa.name, encodeSearchAttributeIndexedValueType(sa.type) ?? 0]),
    ),
  });
  return missing.map((sa) => sa.name);
}

async function ensureSearchAttributesAt(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 5_000 });
  try {
    await ensureSearchAttributes(connection, namespace);
  } catch (err) {
    // Another process may have added the same attributes between our list and add.
    if (!/already exists/i.test((err as Error).message)) throw err;
  } finally {
    await connection.close();
  }
}

/** Serialises starts so two CLIs starting at once do not start two servers. */
function withLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  return withLockFile(lockFile, fn, {
    timeoutMs: LOCK_TIMEOUT_MS,
    staleMs: LOCK_STALE_MS,
    timeoutError: (holder) =>
      new WorldloopError(
        'ERR_TEMPORAL_UNAVAILABLE',
        `timed out waiting for ${lockFile} (held by pid ${holder ?? '?'}) while another process starts the dev server`,
      ),
  });
}

/** The lines that explain a failed start: a Go panic prints its cause first and a long stack after it. */
export async function logExcerpt(file: string): Promise<string> {
  let lines: string[];
  try {
    lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
  } catch {
    return '(no log)';
  }
  const causes = lines.filter((l) => /panic|error|fatal|unable|failed|in use/i.test(l)).slice(0, 5);
  const tail = lines.slice(-5).filter((l) => !causes.includes(l));
  return [...causes, ...(tail.length > 0 ? ['…', ...tail] : [])].join('\n');
}

/** How many times a start that lost a race for one of the server's own random ports is tried. */
const PORT_RACE_ATTEMPTS = 3;

/**
 * The port a failed start could not bind, from the log lines it wrote ("listen tcp 127.0.0.1:NNNN: bind: address
 * already in use"). The dev server picks free ports for its HTTP API, metrics and internal services itself, and on
 * a busy machine another process can take one between its pick and its bind.
 */
export function portInUse(log: string): number | undefined {
  const match = /:(\d+): bind: address already in use/.exec(log);
  return match ? Number(match[1]) : undefined;
}

async function logSince(file: string, offset: number): Promise<string> {
  try {
    return (await readFile(file)).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

async function startDevServer(cfg: Config, paths: DevServerPaths): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const logOffset = await stat(paths.logFile).then(
      (s) => s.size,
      () => 0,
    );
    try {
      return await startDevServerOnce(cfg, paths);
    } catch (err) {
      const port = portInUse(await logSince(paths.logFile, logOffset));
      // Our configured ports being taken is the user's to fix; a random port of the server's own is worth another try.
      const ownPort = port === cfg.temporal.devPort || port === cfg.temporal.uiPort;
      if (port === undefined || ownPort || attempt >= PORT_RACE_ATTEMPTS) {
        if (port !== undefined && ownPort) {
          throw new WorldloopError(
            'ERR_TEMPORAL_UNAVAILABLE',
            `port ${port} on 127.0.0.1 is taken by another process, so the dev server cannot listen there; free it or choose other ports with WORLDLOOP_TEMPORAL_PORT / WORLDLOOP_UI_PORT`,
          );
        }
        throw err;
      }
    }
  }
}

/** The embedded server's SQLite settings (ADR 0022). */
export const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'] as const;

/**
 * The dev server's command line. `sqlitePragmas` defaults to worldloop's; only the side-by-side bench passes others.
 *
 * SQLite's default (a rollback journal, synchronous=FULL) pays several fsyncs per transaction, and a run is dozens
 * of transactions: measured paired (bench/dev-server-sqlite-ab.ts), WAL with synchronous=normal took 82–362 ms off
 * a miss and 32–103 ms off a cache hit (p50, two loads) and a third of the server's CPU. A killed server loses
 * nothing in this mode (the WAL is written before each commit returns); only an OS crash or power cut can drop the
 * last commits, which the database survives consistent (ADR 0022). Deployments that need more run a Temporal
 * cluster on PostgreSQL.
 */
export function devServerArgs(o: {
  port: number;
  uiPort: number;
  dbFile: string;
  namespace: string;
  sqlitePragmas?: readonly string[];
}): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(o.port),
    '--ui-port',
    String(o.uiPort),
    '--db-filename',
    o.dbFile,
    '--namespace',
    o.namespace,
    '--log-format',
    'json',
    '--log-level',
    'warn',
    ...WORLDLOOP_SEARCH_ATTRIBUTES.flatMap((sa) => ['--search-attribute', sa.cliSpec]),
    ...(o.sqlitePragmas ?? SQLITE_PRAGMAS).flatMap((p) => ['--sqlite-pragma', p]),
  ];
}

async function startDevServerOnce(cfg: Config, paths: DevServerPaths): Promise<number> {
  const cli = await findTemporalCli(cfg);
  const address = devServerAddress(cfg);
  const args = devServerArgs({
    port: cfg.temporal.devPort,
    uiPort: cfg.temporal.uiPort,
    dbFile: paths.dbFile,
    namespace: cfg.temporal.namespace,
  });
  const logFd = openSync(paths.logFile, 'a');
  let exited: string | undefined;
  let pid: number | undefined;
  try {
    // detached: its own process group, so it outlives this CLI and ignores our terminal's Ctrl-C.
    const child = spawn(cli.path, args, { detached: true, stdio: ['ignore', logFd, logFd] });
    child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
    child.once('error', (err) => (exited = err.message));
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(logFd);
  }
  if (pid === undefined) {
    throw new WorldloopError('ERR_TEMPORAL_UNAVAILABLE', `could not start ${cli.path}: ${exited ?? 'no pid'}`);
  }
  await writeFile(paths.pidFile, `${pid}\n`);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined || !pidAlive(pid)) {
      await rm(paths.pidFile, { force: true });
      throw new WorldloopError(
        'ERR_TEMPORAL_UNAVAILABLE',
        `the dev server at ${address} ${exited ?? 'exited'} during start-up; last log lines (${paths.logFile}):\n${await logExcerpt(paths.logFile)}`,
      );
    }
    if ((await probeTemporal(address, cfg.temporal.namespace, 1_500)) && (await httpOk(devServerUiUrl(cfg)))) {
      return pid;
    }
    if (Date.now() > deadline) {
      throw new WorldloopError(
        'ERR_TEMPORAL_UNAVAILABLE',
        `the dev server (pid ${pid}) did not become ready at ${address} within ${READY_TIMEOUT_MS / 1000} s; see ${paths.logFile}`,
      );
    }
    await sleep(250);
  }
}

/**
 * The quick answer for every command after the first: our own server is still the one that was checked (its
 * pid alive and recorded as ready) and its port is open. No gRPC here; the caller's own connection proves the
 * server answers, and on failure the caller asks ensureDevServer for the full check.
 */
async function knownReady(paths: DevServerPaths, address: string, uiUrl: string): Promise<DevServerInfo | undefined> {
  const pid = await readPid(paths.pidFile);
  if (!pidAlive(pid) || (await readPid(paths.readyFile)) !== pid) return undefined;
  return (await tcpOpen(address, 1_000)) ? { address, uiUrl, pid: pid!, started: false } : undefined;
}

/**
 * Starts the embedded dev server if no healthy one answers at the dev address, or reuses the running one.
 * Either way worldloop's search attributes are registered before it returns. With `trustReady`, a server this
 * state folder started and already checked is taken as it is (see knownReady).
 */
export async function ensureDevServer(cfg: Config, opts: { trustReady?: boolean } = {}): Promise<DevServerInfo> {
  const paths = devServerPaths(cfg);
  const address = devServerAddress(cfg);
  const uiUrl = devServerUiUrl(cfg);
  if (opts.trustReady) {
    const ready = await knownReady(paths, address, uiUrl);
    if (ready) return ready;
  }
  await mkdir(paths.dir, { recursive: true });
  const info = await checkedDevServer(cfg, paths, address, uiUrl);
  if (info.pid > 0) await writeFile(paths.readyFile, `${info.pid}\n`);
  return info;
}

async function checkedDevServer(
  cfg: Config,
  paths: DevServerPaths,
  address: string,
  uiUrl: string,
): Promise<DevServerInfo> {
  const reuse = async (): Promise<DevServerInfo | undefined> => {
    if (!(await probeTemporal(address, cfg.temporal.namespace))) return undefined;
    await ensureSearchAttributesAt(address, cfg.temporal.namespace);
    const pid = await readPid(paths.pidFile);
    return { address, uiUrl, pid: pidAlive(pid) ? pid! : 0, started: false };
  };

  const running = await reuse();
  if (running) return running;
  return withLock(paths.lockFile, async () => {
    // Someone may have started it while we waited for the lock.
    const raced = await reuse();
    if (raced) return raced;
    const stale = await readPid(paths.pidFile);
    if (stale !== undefined) {
      if (pidAlive(stale)) {
        // Alive but not answering: a hung server holding the port and the SQLite file; replace it.
        await killGroup(stale);
      }
      await rm(paths.pidFile, { force: true });
    }
    const pid = await startDevServer(cfg, paths);
    await ensureSearchAttributesAt(address, cfg.temporal.namespace);
    return { address, uiUrl, pid, started: true };
  });
}

/** SIGTERM to a process group we started detached (or the process), SIGKILL after `graceMs`; waits until gone. */
export async function killGroup(pid: number, graceMs = 10_000): Promise<void> {
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(100);
  if (pidAlive(pid)) {
    signal('SIGKILL');
    while (pidAlive(pid)) await sleep(50);
  }
}

/** Stops the dev server worldloop started (by its pid file). A server we did not start is left alone. */
export async function stopDevServer(cfg: Config): Promise<{ stopped: boolean; pid: number | undefined }> {
  const paths = devServerPaths(cfg);
  const pid = await readPid(paths.pidFile);
  if (pid === undefined || !pidAlive(pid)) {
    await rm(paths.pidFile, { force: true });
    return { stopped: false, pid: undefined };
  }
  await killGroup(pid);
  await rm(paths.pidFile, { force: true });
  await rm(paths.readyFile, { force: true });
  return { stopped: true, pid };
}

export async function devServerStatus(cfg: Config): Promise<DevServerStatus> {
  const paths = devServerPaths(cfg);
  const address = devServerAddress(cfg);
  const uiUrl = devServerUiUrl(cfg);
  const pid = await readPid(paths.pidFile);
  const [probe, uiOk] = await Promise.all([probeTemporal(address, cfg.temporal.namespace), httpOk(uiUrl)]);
  return {
    address,
    uiUrl,
    namespace: cfg.temporal.namespace,
    pid: pidAlive(pid) ? pid : undefined,
    healthy: probe !== undefined,
    uiOk,
    dbFile: paths.dbFile,
    logFile: paths.logFile,
    serverVersion: probe?.serverVersion,
  };
}
