// sandboxVerdict (src/adapters/modal/exit-status.ts): Modal's ambiguous 124/137 are decided from what the
// adapter itself did, never from the code alone.
import { describe, expect, it } from 'vitest';
import { sandboxVerdict, type SandboxEnd } from '../../src/adapters/modal/exit-status';

const end = (over: Partial<SandboxEnd>): SandboxEnd => ({
  exitCode: 0,
  cancelledByAdapter: false,
  timedOutByAdapter: false,
  stderrTail: '',
  timeoutS: 30,
  ...over,
});

describe('sandboxVerdict', () => {
  it('exit 0 is success', () => {
    expect(sandboxVerdict(end({}))).toEqual({ ok: true, exitCode: 0 });
  });

  it.each([124, 137])(
    'exit %i is the processor’s own failure when the adapter neither timed out nor cancelled',
    (code) => {
      const v = sandboxVerdict(end({ exitCode: code, stderrTail: 'killed by timeout(1)' }));
      expect(v).toMatchObject({ ok: false, code: 'ERR_PROCESSOR_FAILED', exitCode: code });
      expect(v.ok ? '' : v.message).toContain('killed by timeout(1)');
    },
  );

  it.each([124, 137, 0, null])(
    'exit %s after the adapter’s deadline is ERR_TIMEOUT with no processor exit code',
    (code) => {
      expect(sandboxVerdict(end({ exitCode: code, timedOutByAdapter: true }))).toMatchObject({
        ok: false,
        code: 'ERR_TIMEOUT',
        exitCode: null,
      });
    },
  );

  it('a cancel wins over a timeout that raced it', () => {
    expect(sandboxVerdict(end({ exitCode: 137, timedOutByAdapter: true, cancelledByAdapter: true }))).toMatchObject({
      code: 'ERR_CANCELLED',
      exitCode: null,
    });
  });

  it('no exit code without our doing is the service’s failure (retryable), not the processor’s', () => {
    expect(sandboxVerdict(end({ exitCode: null }))).toMatchObject({ code: 'ERR_ADAPTER_UNAVAILABLE' });
  });

  it('bounds the stderr tail in the message, keeping its end', () => {
    const v = sandboxVerdict(end({ exitCode: 2, stderrTail: `${'a'.repeat(5000)}THE END` }));
    expect(v.ok ? '' : v.message).toMatch(/^the processor exited with 2; stderr tail:\n…a+THE END$/);
    expect(v.ok ? 0 : v.message.length).toBeLessThan(2_100);
  });
});
