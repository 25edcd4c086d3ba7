// Shared assertions on WorldloopError codes for unit tests.
import { expect } from 'vitest';
import { WorldloopError, type ErrorCode } from '../../../src/contracts/errors';

/** Asserts that `fn` throws a WorldloopError with `code` and returns its detail. */
export function expectCode(code: ErrorCode, fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WorldloopError);
    expect((err as WorldloopError).code).toBe(code);
    return (err as WorldloopError).detail;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

/**
 * The code of the WorldloopError that `p` (or calling `p`) rejects with; `non-worldloop: …` for any other
 * error, undefined when nothing fails.
 */
export async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err instanceof WorldloopError ? err.code : `non-worldloop: ${String(err)}`;
  }
  return undefined;
}
