// One helper turns a catalogue code into a Temporal failure, so the retry policy and our envelopes agree:
// the failure `type` is the code and non-retryable codes are never retried. Pure: safe in workflow code
// (@temporalio/common is the SDK's deterministic failure model; the workflow package re-exports it).
import { ApplicationFailure } from '@temporalio/common';
import {
  ERROR_CATALOGUE,
  type ErrorCode,
  WorldloopError,
  codedMessage,
  isErrorCode,
  parseCodedMessage,
} from './errors';

export interface FailureOptions {
  /** Payloads the failure carries (the workflow attaches its error envelope). */
  readonly details?: unknown[];
  /**
   * The failure ends a whole workflow run rather than one activity attempt: never retried, whatever the
   * code's `retryable` flag. Retrying a run means proposing a new one (a new execution id).
   */
  readonly terminal?: boolean;
}

export function toApplicationFailure(
  code: ErrorCode,
  detail: string,
  options: FailureOptions = {},
): ApplicationFailure {
  return ApplicationFailure.create({
    type: code,
    nonRetryable: options.terminal === true || !ERROR_CATALOGUE[code].retryable,
    message: codedMessage(code, detail),
    details: options.details,
  });
}

/**
 * Converts anything thrown by worldloop code into an ApplicationFailure. A plain error whose message is
 * coded (it crossed a boundary that dropped the class) keeps its code; anything else becomes ERR_INTERNAL.
 */
export function failureFrom(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure && isErrorCode(err.type)) return err;
  if (err instanceof WorldloopError) return toApplicationFailure(err.code, err.detail);
  const message = err instanceof Error ? err.message : String(err);
  const { code, detail } = parseCodedMessage(message);
  return code ? toApplicationFailure(code, detail) : toApplicationFailure('ERR_INTERNAL', message);
}

/** The catalogue codes Temporal must never retry; used to build retry policies. */
export const NON_RETRYABLE_CODES: ErrorCode[] = (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).filter(
  (code) => !ERROR_CATALOGUE[code].retryable,
);
