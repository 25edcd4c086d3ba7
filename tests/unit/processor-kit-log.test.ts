// The kit's JSON-line logger: one object per line, lifecycle events at most once, secrets scrubbed from
// every line whatever field they hide in.
import { describe, expect, it } from 'vitest';
import { KitLogger } from '../../src/processor-kit/log';

function logger(): { log: KitLogger; lines: () => Record<string, unknown>[]; raw: () => string } {
  let raw = '';
  const log = new KitLogger(
    (l) => (raw += l),
    { processor_ref: 'a/b@1', version: '1' },
    () => new Date(0),
  );
  return {
    log,
    raw: () => raw,
    lines: () =>
      raw
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('KitLogger', () => {
  it('writes one JSON object per line with time, level, event and context', () => {
    const { log, lines } = logger();
    log.setContext({ execution_id: 'e', mode: 'mock' });
    log.lifecycle('execution.start', { n: 1 });
    log.lifecycle('execution.fail', { code: 'ERR_X', message: 'multi\nline' });
    expect(lines()).toEqual([
      {
        level: 'info',
        time: '1970-01-01T00:00:00.000Z',
        event: 'execution.start',
        processor_ref: 'a/b@1',
        version: '1',
        execution_id: 'e',
        mode: 'mock',
        n: 1,
      },
      {
        level: 'error',
        time: '1970-01-01T00:00:00.000Z',
        event: 'execution.fail',
        processor_ref: 'a/b@1',
        version: '1',
        execution_id: 'e',
        mode: 'mock',
        code: 'ERR_X',
        message: 'multi\nline',
      },
    ]);
  });

  it('refuses a lifecycle event twice, and lifecycle names from runners', () => {
    const { log } = logger();
    log.lifecycle('provider.call');
    expect(() => log.lifecycle('provider.call')).toThrow(/logged twice/);
    expect(() => log.event('storage.write')).toThrow(/only the kit logs it/);
    expect(() => log.event('provider.retry', { attempt: 2 })).not.toThrow();
  });

  it('scrubs secret values it was given and credential-shaped text, in any field', () => {
    const { log, raw } = logger();
    const secret = 'hunter2-very-secret';
    log.addSecret(secret);
    log.addSecret('abc'); // too short to scrub without shredding ordinary text
    log.event('x', {
      nested: { deep: [`value ${secret} here`] },
      header: 'Authorization: Bearer eyJhbGciOi.payload.sig',
      key: 'sk-proj-AbCdEf123456',
      pair: 'api_key=zzz-123 and token: "qqq"',
      ordinary: 'abc total_tokens prompt_tokens',
    });
    const out = raw();
    expect(out).not.toContain(secret);
    expect(out).not.toContain('eyJhbGciOi');
    expect(out).not.toContain('AbCdEf123456');
    expect(out).not.toContain('zzz-123');
    expect(out).not.toContain('qqq');
    expect(out).toContain('abc total_tokens prompt_tokens');
    expect(() => JSON.parse(out)).not.toThrow();
  });

  it('scrubs a secret that JSON has to escape', () => {
    const { log, raw } = logger();
    const secret = 'pa"ss\\word\nline2';
    log.addSecret(secret);
    log.event('x', { message: `got ${secret}` });
    const parsed = JSON.parse(raw()) as { message: string };
    expect(parsed.message).toBe('got [REDACTED]');
    expect(raw()).not.toContain('word');
  });
});
