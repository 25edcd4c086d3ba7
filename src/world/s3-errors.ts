// What an S3 SDK failure means for the world store: a missing object is an answer, not an error; a missing
// bucket or refused credentials need a person (coded, with the action); anything the SDK's own retries with
// backoff (5xx, throttling, dropped connections) could not get through is ERR_S3_UNAVAILABLE, retryable.
import { WorldloopError } from '../contracts/errors';

interface SdkErrorShape {
  name?: string;
  Code?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

function shape(err: unknown): SdkErrorShape {
  return typeof err === 'object' && err !== null ? (err as SdkErrorShape) : {};
}

/** The HTTP status an S3 error came with, if any. */
export function s3Status(err: unknown): number | undefined {
  return shape(err).$metadata?.httpStatusCode;
}

/** How many attempts the SDK made before this answer (1 when it was not retried). */
export function s3Attempts(err: unknown): number {
  return shape(err).$metadata?.attempts ?? 1;
}

function s3Name(err: unknown): string {
  const e = shape(err);
  return e.name ?? e.Code ?? e.code ?? '';
}

export function isNotFound(err: unknown): boolean {
  const name = s3Name(err);
  if (name === 'NoSuchBucket') return false;
  return name === 'NoSuchKey' || name === 'NotFound' || (s3Status(err) === 404 && name !== 'NoSuchBucket');
}

/** 412: a create-only write (`If-None-Match: *`) found the key taken. */
export function isPreconditionFailed(err: unknown): boolean {
  return s3Status(err) === 412 || s3Name(err) === 'PreconditionFailed';
}

/** 409: a conditional write raced another write of the same key in flight; S3 asks to retry it. */
export function isConditionalConflict(err: unknown): boolean {
  return s3Status(err) === 409 || s3Name(err) === 'ConditionalRequestConflict';
}

const CREDENTIAL_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'InvalidToken',
  'ExpiredToken',
  'CredentialsProviderError',
]);

/**
 * The coded error for a failure that is not an answer. `where` names the bucket (never a credential).
 * A HEAD has no body, so its 404/403 arrive as plain NotFound/Forbidden: the caller says what was asked.
 */
export function codedS3Error(err: unknown, where: string): WorldloopError {
  if (err instanceof WorldloopError) return err;
  const name = s3Name(err);
  const status = s3Status(err);
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'NoSuchBucket') {
    return new WorldloopError('ERR_S3_BUCKET_MISSING', `${where}: no such bucket`, { cause: err });
  }
  if (CREDENTIAL_ERRORS.has(name) || status === 403 || status === 401) {
    return new WorldloopError('ERR_S3_CREDENTIALS', `${where}: ${name || `HTTP ${status}`} (${message})`, {
      cause: err,
    });
  }
  const what = status === undefined ? name || message : `HTTP ${status} ${name}`;
  return new WorldloopError('ERR_S3_UNAVAILABLE', `${where}: ${what} after ${s3Attempts(err)} attempt(s)`, {
    cause: err,
  });
}
