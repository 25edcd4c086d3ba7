// The local adapter takes the processor's own failure code from the kit's closing `execution.fail` line
// (a provider's 401 is ERR_PROVIDER_AUTH, not a generic ERR_PROCESSOR_FAILED), but only codes a processor
// may report, and only from that event.
import { describe, expect, it } from 'vitest';
import { reportedFailureCode } from '../../src/adapters/docker/envelope';

const line = (o: Record<string, unknown>) => JSON.stringify({ level: 'error', time: 't', ...o });

describe('reportedFailureCode', () => {
  it('reads the last execution.fail line of the tail', () => {
    const tail = [
      line({ event: 'execution.start' }),
      'not json',
      line({ event: 'execution.fail', code: 'ERR_PROVIDER_AUTH', message: 'HTTP 401' }),
    ].join('\n');
    expect(reportedFailureCode(tail)).toBe('ERR_PROVIDER_AUTH');
    expect(reportedFailureCode(`${line({ event: 'execution.fail', code: 'ERR_PROVIDER_RATE_LIMITED' })}\n`)).toBe(
      'ERR_PROVIDER_RATE_LIMITED',
    );
  });

  it.each([
    ['no fail line', line({ event: 'provider.call', code: 'ERR_PROVIDER_AUTH' })],
    ['a code outside the catalogue', line({ event: 'execution.fail', code: 'ERR_MADE_UP' })],
    ['a control-plane code', line({ event: 'execution.fail', code: 'ERR_CI_SAFETY' })],
    ['a code that is not a string', line({ event: 'execution.fail', code: 7 })],
    ['an empty tail', ''],
  ])('ignores %s', (_why, tail) => {
    expect(reportedFailureCode(tail)).toBeUndefined();
  });
});
