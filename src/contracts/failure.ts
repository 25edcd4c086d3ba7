// One helper turns a catalogue code into a Temporal failure, so the retry policy and our envelopes agree:
// the failure `type` is the code and non-retryable codes are never retried. Pure: safe in workflow code.
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_CATALOGUE, type ErrorCode, WorldloopError, codedMessage, isErrorCode } from './errors';

export function toApplicationFailure(code: ErrorCode, detail: string, details?: unknown[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: code,
    nonRetryable: !ERROR_CATALOGUE[code].retryable,
    message: codedMessage(code, detail),
    details,
  });
}

/** Converts anything thrown by worldloop code into an ApplicationFailure; unknown errors become ERR_INTERNAL. */
export function failureFrom(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure && isErrorCode(err.type)) return err;
  if (err instanceof WorldloopError) return toApplicationFailure(err.code, err.detail);
  const message = err instanceof Error ? err.message : String(err);
  return toApplicationFailure('ERR_INTERNAL', message);
}

/** The catalogue codes Temporal must never retry; used to build retry policies. */
export const NON_RETRYABLE_CODES: ErrorCode[] = (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).filter(
  (code) => !ERROR_CATALOGUE[code].retryable,
);
