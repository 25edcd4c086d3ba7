// Classifying what the Docker engine answers: engine trouble (unreachable, 5xx) is retryable — the next
// attempt adopts the container — while anything else is a bug worth seeing.
import { WorldloopError, type ErrorCode } from '../../contracts/errors';

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

export function messageOf(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === 'string') return json.message;
  return err instanceof Error ? err.message : String(err);
}

export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNREACHABLE.has(code);
}

/** Engine trouble is retryable (the activity will adopt the container); anything else is a bug to see. */
export function engineError(err: unknown, what: string): WorldloopError {
  if (err instanceof WorldloopError) return err;
  const status = statusOf(err);
  const code: ErrorCode = isUnreachable(err) || (status ?? 0) >= 500 ? 'ERR_ADAPTER_UNAVAILABLE' : 'ERR_INTERNAL';
  return new WorldloopError(code, `docker ${what}: ${messageOf(err)}`, { cause: err });
}

/** `p`, or undefined when the engine answers with one of `statuses` (404 gone, 409 conflict, 304 no-op). */
export async function ignoreStatus<T>(p: Promise<T>, ...statuses: number[]): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (statuses.includes(statusOf(err) ?? -1)) return undefined;
    throw err;
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      // Timers run before I/O in each turn of the event loop: on a starved CPU the answer may already be
      // waiting on the socket when the timer fires. setImmediate lets that I/O settle the race first.
      timer = setTimeout(
        () =>
          setImmediate(() =>
            reject(new WorldloopError('ERR_ADAPTER_UNAVAILABLE', `docker ${what}: no answer within ${ms} ms`)),
          ),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits for `p` at most `ms`, without leaving a timer behind that keeps the process alive. */
export async function atMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** An ISO time from Docker's, or undefined for "0001-01-01T00:00:00Z" (Docker's "never happened"). */
export function isoOf(dockerTime: string | undefined): string | undefined {
  if (!dockerTime) return undefined;
  const ms = Date.parse(dockerTime);
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : undefined;
}
