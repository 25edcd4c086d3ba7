// Where the resident worker's files are and what it serves: light (node: only), so `run` can check for a current
// resident worker and talk to it over its socket without loading the Temporal SDK (src/temporal/front-door.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT, type Config } from '../config';

export interface ResidentWorkerPaths {
  readonly pidFile: string;
  readonly infoFile: string;
  readonly readyFile: string;
  readonly lockFile: string;
  readonly logFile: string;
  /** The front door: a Unix socket the resident worker takes runs on (front-door.ts). */
  readonly socketFile: string;
}

/** What a resident worker serves; a worker serving anything else is replaced. */
export interface WorkerIdentity {
  readonly build: string;
  readonly task_queue: string;
  readonly namespace: string;
  readonly address: string;
}

export function residentWorkerPaths(cfg: Config): ResidentWorkerPaths {
  const dir = join(cfg.stateDir, 'temporal');
  return {
    pidFile: join(dir, 'worker.pid'),
    infoFile: join(dir, 'worker.json'),
    readyFile: join(dir, 'worker.ready'),
    lockFile: join(dir, 'worker.lock'),
    logFile: join(cfg.stateDir, 'logs', 'worker.log'),
    socketFile: join(dir, 'worker.sock'),
  };
}

/** The build the CLI runs: the digest in dist/build-stamp.json (bin/build-stamp.js writes it). */
async function currentBuild(): Promise<string> {
  try {
    const stamp = JSON.parse(await readFile(join(REPO_ROOT, 'dist', 'build-stamp.json'), 'utf8')) as {
      source_digest?: unknown;
    };
    return typeof stamp.source_digest === 'string' ? stamp.source_digest : 'unknown';
  } catch {
    return 'unbuilt';
  }
}

export async function wantedIdentity(cfg: Config, address: string): Promise<WorkerIdentity> {
  return {
    build: await currentBuild(),
    task_queue: cfg.temporal.taskQueue,
    namespace: cfg.temporal.namespace,
    address,
  };
}

export async function readIdentity(file: string): Promise<Partial<WorkerIdentity>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Partial<WorkerIdentity>;
  } catch {
    return {};
  }
}

export const sameIdentity = (a: Partial<WorkerIdentity>, b: WorkerIdentity): boolean =>
  a.build === b.build && a.task_queue === b.task_queue && a.namespace === b.namespace && a.address === b.address;
