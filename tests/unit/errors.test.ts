// The error catalogue is a public contract: codes travel in envelopes, receipts of failed runs, Temporal
// failure types and scripts' exit-code handling. This file pins it — renaming or removing a code fails
// here; adding one means adding it to PINNED (the catalogue is append-only).
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CATALOGUE,
  ERROR_CODES,
  WorldloopError,
  codeFromMessage,
  failureFrom,
  toApplicationFailure,
  NON_RETRYABLE_CODES,
  type ErrorCode,
} from '../../src/contracts';
import { exitCodeFor, describeError } from '../../src/cli/output';

const PINNED = [
  'ERR_PATH_TOO_LONG',
  'ERR_BAD_FACET',
  'ERR_PERCENT_DECODE',
  'ERR_DECODED_SLASH',
  'ERR_FORBIDDEN_CHAR',
  'ERR_DOT_SEGMENTS',
  'ERR_FORBIDDEN_SEGMENT',
  'ERR_SEGMENT_TOO_LONG',
  'ERR_SELECTOR_KIND_MISMATCH',
  'ERR_OUTPUT_DUPLICATE',
  'ERR_INPUTS',
  'ERR_MODE_INVALID',
  'ERR_CI_SAFETY',
  'ERR_MISSING_SECRET',
  'ERR_SECRET_NOT_ALLOWED',
  'ERR_CONFIG_INVALID',
  'ERR_USAGE',
  'ERR_UNKNOWN_PROCESSOR',
  'ERR_REGISTRY_INVALID',
  'ERR_IMAGE_UNPINNED',
  'ERR_PLATFORM_MISSING',
  'ERR_OCI',
  'ERR_DRIFT',
  'ERR_PLAN_NOT_FOUND',
  'ERR_PLAN_EXISTS',
  'ERR_BUDGET_EXCEEDED',
  'ERR_LEASE_CONFLICT',
  'ERR_LEDGER_BROKEN',
  'ERR_LEDGER_CONTENTION',
  'ERR_ADAPTER_UNAVAILABLE',
  'ERR_TIMEOUT',
  'ERR_PROCESSOR_FAILED',
  'ERR_CANCELLED',
  'ERR_PROVIDER_AUTH',
  'ERR_PROVIDER_RATE_LIMITED',
  'ERR_PROVIDER_UNAVAILABLE',
  'ERR_PROVIDER_REJECTED',
  'ERR_OUTPUT_INVALID',
  'ERR_OUTPUT_TOO_LARGE',
  'ERR_ADOPTION_REFUSED',
  'ERR_DIGEST_MISMATCH',
  'ERR_WORLD_CONFLICT',
  'ERR_NOT_FOUND',
  'ERR_PREDICATE_FAILED',
  // Modal adapter
  'ERR_MODAL_APP_NAME',
  'ERR_ADAPTER_AUTH',
  'ERR_ADAPTER_QUOTA',
  'ERR_IMAGE_PULL',
  // OCI client bounds and credential scope (registry)
  'ERR_OCI_TOO_LARGE',
  'ERR_OCI_SIZE_MISMATCH',
  'ERR_OCI_INSECURE_REALM',
  'ERR_TOOLCHAIN',
  'ERR_CHARGE_MISMATCH',
  'ERR_INVARIANT',
  'ERR_ENGINE_STOPPED',
  'ERR_BUILD_STALE',
  'ERR_WORKER_UNAVAILABLE',
  'ERR_INPUT_ARTIFACT_MISSING',
  'ERR_INPUT_ARTIFACT_QUARANTINED',
  'ERR_S3_BUCKET_MISSING',
  'ERR_S3_CREDENTIALS',
  'ERR_S3_UNAVAILABLE',
  'ERR_DIGEST_NOT_FOUND',
  'ERR_GITHUB_API',
  'ERR_PIN_PR',
  'ERR_SECRET_TARGET',
  'ERR_REPLAY_NONDETERMINISM',
  'ERR_REPLAY_HISTORY',
  'ERR_DEPLOY_PROBE',
  // Provenance and verify
  'ERR_SIGNING_KEY',
  'ERR_RECEIPT_MISMATCH',
  'ERR_HISTORY_MISMATCH',
  'ERR_OUTPUT_TAMPERED',
  'ERR_LEDGER_MISMATCH',
  'ERR_ATTESTATION_INVALID',
  'ERR_NONDETERMINISTIC',
  // Processor images' Node runtime
  'ERR_NODE_RUNTIME_INTEGRITY',
  'ERR_NODE_RUNTIME_UNAVAILABLE',
  'ERR_TEMPORAL_UNAVAILABLE',
  'ERR_INTERNAL',
] as const;

describe('the error catalogue', () => {
  it('still has every pinned code (none renamed or removed)', () => {
    const missing = PINNED.filter((code) => !ERROR_CODES.includes(code as ErrorCode));
    expect(missing).toEqual([]);
  });

  it('has no code that is not pinned (a new code is added here too)', () => {
    expect(ERROR_CODES.filter((code) => !(PINNED as readonly string[]).includes(code))).toEqual([]);
  });

  it.each(PINNED)('%s has a kind, retryable flag, explanation and a "To fix:" action', (code) => {
    const spec = ERROR_CATALOGUE[code];
    expect(['input', 'policy', 'runtime', 'integrity']).toContain(spec.kind);
    expect(typeof spec.retryable).toBe('boolean');
    expect(spec.explanation.length).toBeGreaterThan(20);
    expect(spec.action).toMatch(/^To fix: .{10,}/);
  });

  it('never marks a bad input as retryable (the same request would fail the same way)', () => {
    const retryableInputs = PINNED.filter((c) => ERROR_CATALOGUE[c].kind === 'input' && ERROR_CATALOGUE[c].retryable);
    expect(retryableInputs).toEqual([]);
  });
});

describe('toApplicationFailure and failureFrom', () => {
  it.each(PINNED)('%s becomes a failure typed with the code, retryable exactly as catalogued', (code) => {
    const failure = toApplicationFailure(code, 'detail here');
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe(code);
    expect(failure.nonRetryable).toBe(!ERROR_CATALOGUE[code].retryable);
    expect(failure.message).toBe(`[${code}] detail here`);
    expect(codeFromMessage(failure.message)).toBe(code);
    expect(NON_RETRYABLE_CODES.includes(code)).toBe(!ERROR_CATALOGUE[code].retryable);
  });

  it('keeps a WorldloopError’s code and turns anything else into a retryable ERR_INTERNAL', () => {
    expect(failureFrom(new WorldloopError('ERR_TIMEOUT', 'slow')).type).toBe('ERR_TIMEOUT');
    const internal = failureFrom(new TypeError('boom'));
    expect(internal.type).toBe('ERR_INTERNAL');
    expect(internal.nonRetryable).toBe(false);
    expect(internal.message).toBe('[ERR_INTERNAL] boom');
  });

  it('reads no code out of a message that does not start with one', () => {
    expect(codeFromMessage('oops [ERR_TIMEOUT] later')).toBeUndefined();
    expect(codeFromMessage('[ERR_NOT_A_CODE] x')).toBeUndefined();
  });
});

describe('CLI exit codes', () => {
  it('exits 2 for bad input and 1 for everything else', () => {
    for (const code of PINNED) {
      expect(exitCodeFor(code)).toBe(ERROR_CATALOGUE[code].kind === 'input' ? 2 : 1);
    }
  });

  it('describes a coded failure message without its prefix', () => {
    expect(describeError(new Error('[ERR_LEASE_CONFLICT] held by x'))).toEqual({
      code: 'ERR_LEASE_CONFLICT',
      message: 'held by x',
    });
  });
});
