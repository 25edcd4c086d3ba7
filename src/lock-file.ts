// An exclusive lock file (O_EXCL) shared by the background servers worldloop starts on first use (the
// Temporal dev server, the loopback OCI registry): two CLIs or test runs starting at once must not start
// two servers on one port. Node built-ins only, so any layer may use it.
import { open, readFile, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** An empty lock file is a holder between open and write; it gets this long before it counts as stale. */
const EMPTY_LOCK_GRACE_MS = 5_000;
const RETRY_MS = 200;

export interface LockFileOptions {
  /** Give up waiting for another holder after this long. */
  readonly timeoutMs: number;
  /** A lock older than this whose holder we cannot prove alive is taken over. */
  readonly staleMs: number;
  /** The error thrown on timeout; `holder` is the pid in the lock file, if it holds one. */
  readonly timeoutError: (holder: number | undefined) => Error;
}

export function pidAlive(pid: number | undefined): boolean {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The positive pid written in `file`, or undefined when the file is missing, empty or holds no pid. */
export async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(file, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `fn` while holding `lockFile` (created with O_EXCL, holding our pid) and removes it afterwards. A
 * lock whose holder is dead, or that is older than `staleMs`, is stale and taken over.
 */
export async function withLockFile<T>(lockFile: string, fn: () => Promise<T>, opts: LockFileOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = await readPid(lockFile);
      const age = await stat(lockFile).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (
        (holder !== undefined && !pidAlive(holder)) ||
        (holder === undefined && age > EMPTY_LOCK_GRACE_MS) ||
        age > opts.staleMs
      ) {
        await rm(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw opts.timeoutError(holder);
      await sleep(RETRY_MS);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}
