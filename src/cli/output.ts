// How every command reports: results on stdout, problems on stderr as code + explanation + action, and
// exit codes a script can rely on (0 success, 2 bad input, 1 anything else). No stack trace for a bad input.
import { ERROR_CATALOGUE, WorldloopError, parseCodedMessage, type ErrorCode } from '../contracts/errors';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;

export function exitCodeFor(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].kind === 'input' ? EXIT_BAD_INPUT : EXIT_FAILURE;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Normalises anything thrown into a catalogue code and a one-line detail. */
export function describeError(err: unknown): { code: ErrorCode; message: string } {
  if (err instanceof WorldloopError) return { code: err.code, message: err.detail };
  const { code, detail } = parseCodedMessage(err instanceof Error ? err.message : String(err));
  return code ? { code, message: detail } : { code: 'ERR_INTERNAL', message: detail };
}

/** Prints an error the way every command does and returns the exit code to use. */
export function reportError(err: unknown, json: boolean): number {
  const { code, message } = describeError(err);
  const spec = ERROR_CATALOGUE[code];
  if (json) {
    printJson({ ok: false, code, message, explanation: spec.explanation, action: spec.action });
  } else {
    process.stderr.write(`${code}: ${message}\n  why: ${spec.explanation}\n  ${spec.action}\n`);
    if (code === 'ERR_INTERNAL' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  }
  return exitCodeFor(code);
}

/**
 * Wraps a command action: runs it, and on a throw prints the coded error and sets the exit code.
 * The action returns its own exit code (0 unless it reports a failure itself).
 */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<number | void> | number | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const opts = args.find((a): a is { json?: boolean } => typeof a === 'object' && a !== null && 'json' in a);
    try {
      const code = await fn(...args);
      process.exitCode = code ?? EXIT_OK;
    } catch (err) {
      process.exitCode = reportError(err, opts?.json === true);
    }
  };
}
