import { describe, expect, it } from 'vitest';
import { WorldloopError } from '../../src/contracts/errors';
import { DEFAULT_MODE, ModeSafetyError, assertModeSafe, resolveMode } from '../../src/contracts/mode';
import { loadConfig } from '../../src/config';
import type { Mode } from '../../src/contracts/schemas';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof WorldloopError ? error.code : `non-worldloop: ${String(error)}`;
  }
  return undefined;
}

describe('resolveMode', () => {
  it('accepts exactly mock and real', () => {
    expect(resolveMode('mock')).toBe('mock');
    expect(resolveMode('real')).toBe('real');
  });

  it('defaults to mock when nothing was given', () => {
    expect(resolveMode(undefined)).toBe('mock');
    expect(DEFAULT_MODE).toBe('mock');
  });

  it.each([
    'Mock',
    'REAL',
    ' real',
    'real ',
    'real\n',
    '',
    'smoke',
    'prod',
    'mock,real',
    'réal',
    null,
    0,
    1,
    true,
    ['real'],
    { mode: 'real' },
  ])('rejects %j with ERR_MODE_INVALID', (value) => {
    expect(codeOf(() => resolveMode(value))).toBe('ERR_MODE_INVALID');
  });

  it('quotes and truncates what it was given, so a user sees their mistake without a wall of text', () => {
    const error = (() => {
      try {
        resolveMode('x'.repeat(500));
      } catch (e) {
        return e as WorldloopError;
      }
      throw new Error('expected a throw');
    })();
    expect(error.message.startsWith('[ERR_MODE_INVALID] got "xxxx')).toBe(true);
    expect(error.message.length).toBeLessThan(120);
  });
});

describe('assertModeSafe (the CI guard)', () => {
  it('refuses real mode in CI with ModeSafetyError / ERR_CI_SAFETY', () => {
    let caught: unknown;
    try {
      assertModeSafe('real', true);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ModeSafetyError);
    expect(caught).toBeInstanceOf(WorldloopError);
    const error = caught as ModeSafetyError;
    expect(error.code).toBe('ERR_CI_SAFETY');
    expect(error.name).toBe('ModeSafetyError');
    expect(error.message).toMatch(/^\[ERR_CI_SAFETY\] /);
    expect(error.spec.kind).toBe('policy');
    expect(error.spec.retryable).toBe(false);
  });

  it('lets mock run in CI and anything run outside CI', () => {
    expect(() => assertModeSafe('mock', true)).not.toThrow();
    expect(() => assertModeSafe('mock', false)).not.toThrow();
    expect(() => assertModeSafe('real', false)).not.toThrow();
  });

  it('does not wave through a mode that slipped past the type system', () => {
    expect(codeOf(() => assertModeSafe('REAL' as Mode, true))).toBe('ERR_MODE_INVALID');
    expect(codeOf(() => assertModeSafe('REAL' as Mode, false))).toBe('ERR_MODE_INVALID');
  });

  it('treats only CI == "true" as CI, end to end through config', () => {
    const guard = (ci: string | undefined) => () =>
      assertModeSafe(resolveMode('real'), loadConfig(ci === undefined ? {} : { CI: ci }).ci);
    expect(codeOf(guard('true'))).toBe('ERR_CI_SAFETY');
    for (const notCi of [undefined, '', 'false', '1', 'TRUE', 'True', ' true']) {
      expect(codeOf(guard(notCi)), `CI=${JSON.stringify(notCi)}`).toBeUndefined();
    }
  });
});
