// The one-per-concern helpers of src/contracts: the coded-message grammar, the error envelope builder and
// the zod issue → WorldloopError helper. Pure, so tested without Temporal or Docker.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ErrorEnvelopeSchema,
  WorldloopError,
  codeFromMessage,
  codedMessage,
  detailOfMessage,
  errorEnvelope,
  failureFrom,
  firstIssue,
  parseCodedMessage,
  splitCodedMessage,
  toApplicationFailure,
  unstartedMeta,
  zodIssueError,
} from '../../src/contracts';

describe('coded messages', () => {
  it('formats and parses back to the same code and detail', () => {
    const message = codedMessage('ERR_TIMEOUT', 'slow: 30 s');
    expect(message).toBe('[ERR_TIMEOUT] slow: 30 s');
    expect(parseCodedMessage(message)).toEqual({ code: 'ERR_TIMEOUT', detail: 'slow: 30 s' });
    expect(codeFromMessage(message)).toBe('ERR_TIMEOUT');
    expect(detailOfMessage(message)).toBe('slow: 30 s');
  });

  it('leaves a message without a prefix whole', () => {
    expect(parseCodedMessage('plain failure')).toEqual({ code: undefined, detail: 'plain failure' });
    expect(parseCodedMessage('text [ERR_TIMEOUT] later')).toEqual({
      code: undefined,
      detail: 'text [ERR_TIMEOUT] later',
    });
  });

  it('keeps an unknown code token as part of the detail (nothing is lost)', () => {
    expect(splitCodedMessage('[ERR_NOT_A_CODE] x')).toEqual({ token: 'ERR_NOT_A_CODE', detail: 'x' });
    expect(parseCodedMessage('[ERR_NOT_A_CODE] x')).toEqual({ code: undefined, detail: '[ERR_NOT_A_CODE] x' });
  });

  it('is what WorldloopError messages are made of', () => {
    const err = new WorldloopError('ERR_INPUTS', 'text: expected string');
    expect(parseCodedMessage(err.message)).toEqual({ code: 'ERR_INPUTS', detail: err.detail });
  });
});

describe('failures', () => {
  it('a terminal failure is never retried, whatever the code', () => {
    expect(toApplicationFailure('ERR_INTERNAL', 'x').nonRetryable).toBe(false);
    const terminal = toApplicationFailure('ERR_INTERNAL', 'x', { terminal: true, details: [1] });
    expect(terminal.nonRetryable).toBe(true);
    expect(terminal.details).toEqual([1]);
    expect(terminal.message).toBe('[ERR_INTERNAL] x');
  });

  it('a plain error with a coded message keeps its code', () => {
    const failure = failureFrom(new Error('[ERR_LEASE_CONFLICT] prefix busy'));
    expect(failure.type).toBe('ERR_LEASE_CONFLICT');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe('[ERR_LEASE_CONFLICT] prefix busy');
  });
});

describe('error envelopes', () => {
  it('builds a schema-valid envelope whose message carries no code prefix', () => {
    const envelope = errorEnvelope(
      '01a20c30-47c9-757d-a13d-b0db3d62b1d9',
      'ERR_INPUTS',
      '[ERR_INPUTS] /text must be string',
      unstartedMeta({ adapter: 'local', mode: 'mock' }),
    );
    expect(ErrorEnvelopeSchema.parse(envelope)).toEqual(envelope);
    expect(envelope.error).toEqual({ code: 'ERR_INPUTS', message: '/text must be string' });
    expect(envelope.meta).toEqual({
      env_fingerprint: '',
      image_digest: '',
      adapter: 'local',
      mode: 'mock',
      duration_ms: 0,
      cache_hit: false,
      cost_micro: 0,
    });
  });

  it('keeps what Admit computed in the meta', () => {
    const meta = unstartedMeta({
      adapter: 'modal',
      mode: 'real',
      env_fingerprint: 'adapter=modal',
      image_digest: 'sha256:ab',
      cache_hit: true,
    });
    expect(meta).toMatchObject({ env_fingerprint: 'adapter=modal', image_digest: 'sha256:ab', cache_hit: true });
  });
});

describe('zod issue → WorldloopError', () => {
  const Schema = z.strictObject({ runtime: z.strictObject({ cpu: z.number() }) });

  it('locates the first issue by its dotted path, with a context', () => {
    const parsed = Schema.safeParse({ runtime: { cpu: 'two' } });
    if (parsed.success) throw new Error('expected a failure');
    const err = zodIssueError('ERR_REGISTRY_INVALID', parsed.error, { context: 'registry/text/stats.yaml' });
    expect(err).toBeInstanceOf(WorldloopError);
    expect(err.code).toBe('ERR_REGISTRY_INVALID');
    expect(err.detail).toMatch(/^registry\/text\/stats\.yaml: runtime\.cpu: .+/);
    expect(err.detail).not.toContain('two'); // zod names the expectation, not the received value
  });

  it('names a top-level issue by the root label, or leaves the location out', () => {
    const parsed = Schema.safeParse('nope');
    if (parsed.success) throw new Error('expected a failure');
    expect(firstIssue(parsed.error, '(arguments)').where).toBe('(arguments)');
    expect(firstIssue(parsed.error).where).toBeUndefined();
    const detail = zodIssueError('ERR_USAGE', parsed.error, { context: 'plan key "x"' }).detail;
    expect(detail).toBe(`plan key "x": ${parsed.error.issues[0]!.message}`);
  });
});
