// The resident worker (issue 10): with the embedded dev server, worldloop keeps one background worker process
// per state folder — started by `worldloop server start` or the first `run` that needs it, reused by every later
// command, restarted when it crashed or when the build it runs is not the current one (docs/architecture.md §11).
// A CLI call therefore never builds a worker (or bundles workflow code) itself. Files, under <state>/temporal/:
// worker.pid (its pid), worker.json (what it serves: build, task queue, server) and worker.lock (one starter at a
// time); its output goes to <state>/logs/worker.log.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, type Config } from '../config';
import { WorldloopError } from '../contracts/errors';
import { pidAlive, readPid, withLockFile } from '../lock-file';
import { killGroup, logExcerpt } from './dev-server';
import {
  readIdentity,
  residentWorkerPaths,
  sameIdentity,
  wantedIdentity,
  type ResidentWorkerPaths,
  type WorkerIdentity,
} from './resident-identity';

export { residentWorkerPaths };

const READY_TIMEOUT_MS = 120_000;
const LOCK_TIMEOUT_MS = 150_000;
const LOCK_STALE_MS = 180_000;

export interface ResidentWorkerStatus {
  readonly running: boolean;
  readonly pid: number | undefined;
  readonly taskQueue: string | undefined;
  /** Running, and serving this build, task queue and server (else the next command replaces it). */
  readonly current: boolean;
  readonly logFile: string;
}

async function clearFiles(paths: ResidentWorkerPaths): Promise<void> {
  const files = [paths.pidFile, paths.infoFile, paths.readyFile, paths.socketFile];
  await Promise.all(files.map((f) => rm(f, { force: true })));
}

async function spawnWorker(paths: ResidentWorkerPaths, identity: WorkerIdentity): Promise<number> {
  await mkdir(join(paths.logFile, '..'), { recursive: true });
  const logFd = openSync(paths.logFile, 'a');
  let exited: string | undefined;
  let pid: number | undefined;
  try {
    // detached: its own process group, so it outlives this CLI and ignores the terminal's Ctrl-C.
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'worldloop.js'), 'worker', '--ready-file', paths.readyFile, '--socket', paths.socketFile],
      { detached: true, stdio: ['ignore', logFd, logFd] },
    );
    child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
    child.once('error', (err) => (exited = err.message));
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(logFd);
  }
  if (pid === undefined)
    throw new WorldloopError('ERR_WORKER_UNAVAILABLE', `could not start the worker: ${exited ?? 'no pid'}`);
  await writeFile(paths.infoFile, `${JSON.stringify({ pid, ...identity })}\n`);
  await writeFile(paths.pidFile, `${pid}\n`);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const ready = await stat(paths.readyFile).then(
      () => true,
      () => false,
    );
    if (ready) return pid;
    if (exited !== undefined || !pidAlive(pid) || Date.now() > deadline) {
      const why = exited ?? (pidAlive(pid) ? `was not ready within ${READY_TIMEOUT_MS / 1000} s` : 'exited');
      if (pidAlive(pid)) await killGroup(pid);
      await clearFiles(paths);
      throw new WorldloopError(
        'ERR_WORKER_UNAVAILABLE',
        `the resident worker (pid ${pid}) ${why} during start-up; last log lines (${paths.logFile}):\n${await logExcerpt(paths.logFile)}`,
      );
    }
    await sleep(50);
  }
}

/**
 * The resident worker for this state folder, started if none runs, or replaced if the one running serves
 * another build, task queue or server. `address` is the Temporal frontend it must serve.
 */
export async function ensureResidentWorker(
  cfg: Config,
  address: string,
): Promise<{ pid: number; started: boolean; logFile: string }> {
  const paths = residentWorkerPaths(cfg);
  const want = await wantedIdentity(cfg, address);
  const reuse = async () => {
    const pid = await readPid(paths.pidFile);
    return pidAlive(pid) && sameIdentity(await readIdentity(paths.infoFile), want) ? pid : undefined;
  };
  const running = await reuse();
  if (running !== undefined) return { pid: running, started: false, logFile: paths.logFile };
  await mkdir(join(cfg.stateDir, 'temporal'), { recursive: true });
  return withLockFile(
    paths.lockFile,
    async () => {
      const raced = await reuse();
      if (raced !== undefined) return { pid: raced, started: false, logFile: paths.logFile };
      const stale = await readPid(paths.pidFile);
      if (pidAlive(stale)) await killGroup(stale!); // an older build or another queue: replace it
      await clearFiles(paths);
      return { pid: await spawnWorker(paths, want), started: true, logFile: paths.logFile };
    },
    {
      timeoutMs: LOCK_TIMEOUT_MS,
      staleMs: LOCK_STALE_MS,
      timeoutError: (holder) =>
        new WorldloopError(
          'ERR_WORKER_UNAVAILABLE',
          `timed out waiting for ${paths.lockFile} (held by pid ${holder ?? '?'}) while another process starts the worker`,
        ),
    },
  );
}

/** Stops the resident worker (it drains on SIGTERM); false when none was running. */
export async function stopResidentWorker(cfg: Config): Promise<{ stopped: boolean; pid: number | undefined }> {
  const paths = residentWorkerPaths(cfg);
  const pid = await readPid(paths.pidFile);
  const alive = pidAlive(pid);
  if (alive) await killGroup(pid!, 30_000);
  await clearFiles(paths);
  return { stopped: alive, pid: alive ? pid : undefined };
}

export async function residentWorkerStatus(cfg: Config, address: string): Promise<ResidentWorkerStatus> {
  const paths = residentWorkerPaths(cfg);
  const pid = await readPid(paths.pidFile);
  const running = pidAlive(pid);
  const identity = await readIdentity(paths.infoFile);
  return {
    running,
    pid: running ? pid : undefined,
    taskQueue: running ? identity.task_queue : undefined,
    current: running && sameIdentity(identity, await wantedIdentity(cfg, address)),
    logFile: paths.logFile,
  };
}
