// The shared inputs limits (ADR 0006): one check used by the CLI and, through the inputs hash, by Admit
// and the processor kit.
import { describe, expect, it } from 'vitest';
import { MAX_INPUTS_BYTES, MAX_INPUTS_DEPTH, checkInputsLimits, utf8Length } from '../../src/contracts/inputs-limits';
import { WorldloopError } from '../../src/contracts/errors';
import { inputsHash, parseJsonText } from '../../src/hashing';

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

function refusal(fn: () => unknown): WorldloopError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WorldloopError);
    return err as WorldloopError;
  }
  throw new Error('expected a refusal');
}

describe('checkInputsLimits', () => {
  it('accepts nesting up to the limit and refuses one level more, without overflowing the stack', () => {
    // `{a: nested(n)}` nests n + 1 levels below the root object.
    expect(() => checkInputsLimits({ a: nested(MAX_INPUTS_DEPTH - 1) })).not.toThrow();
    const e = refusal(() => checkInputsLimits({ a: nested(MAX_INPUTS_DEPTH) }));
    expect(e.code).toBe('ERR_INPUTS');
    expect(e.detail).toMatch(/deeper than 512 levels \(at \/a\/0\/0/);
    expect(refusal(() => checkInputsLimits({ a: nested(200_000) })).detail).toMatch(/deeper than 512/);
  });

  it('counts the size in UTF-8 bytes of compact JSON, refusing one byte over', () => {
    const overhead = '{"t":""}'.length;
    expect(() => checkInputsLimits({ t: 'x'.repeat(MAX_INPUTS_BYTES - overhead) })).not.toThrow();
    const e = refusal(() => checkInputsLimits({ t: 'x'.repeat(MAX_INPUTS_BYTES - overhead + 1) }));
    expect(e.detail).toMatch(/1048577 bytes of JSON, more than the 1048576 accepted; .*world:\/\/artifacts/);
    // 'é' is two UTF-8 bytes: half as many characters reach the same limit.
    const half = Math.floor((MAX_INPUTS_BYTES - overhead) / 2);
    expect(() => checkInputsLimits({ t: 'é'.repeat(half) })).not.toThrow();
    expect(() => checkInputsLimits({ t: 'é'.repeat(half + 1) })).toThrow(/more than the 1048576/);
  });

  it('refuses a __proto__ member at any depth, as parsed from JSON (an own property)', () => {
    expect(refusal(() => checkInputsLimits(JSON.parse('{"__proto__":{}}'))).detail).toMatch(/"__proto__" at \(root\)/);
    expect(refusal(() => checkInputsLimits(JSON.parse('{"a":[{"b":{"__proto__":1}}]}'))).detail).toMatch(
      /"__proto__" at \/a\/0\/b/,
    );
    // Members that merely look special are data like any other.
    expect(() => checkInputsLimits(JSON.parse('{"constructor":1,"prototype":{"x":1},"__proto":2}'))).not.toThrow();
  });

  it('refuses anything but an object', () => {
    for (const v of [null, [], 'x', 1, true]) expect(refusal(() => checkInputsLimits(v)).detail).toMatch(/JSON object/);
  });

  it('utf8Length agrees with Buffer.byteLength, lone surrogates included', () => {
    for (const s of ['', 'abc', 'é', '€', '😀', 'a\ud800b', '\udc00', 'x😀\ud83d']) {
      expect(utf8Length(s)).toBe(Buffer.byteLength(s, 'utf8'));
    }
  });
});

describe('the inputs hash applies the same limits (so Admit and the processor kit refuse the same)', () => {
  it('refuses __proto__ that would otherwise hash differently from what zod or ajv see', () => {
    const parsed = parseJsonText('{"text":"hi","__proto__":{"polluted":1}}');
    expect(refusal(() => inputsHash(parsed)).code).toBe('ERR_INPUTS');
  });
  it('refuses excessive depth and size with ERR_INPUTS, not a RangeError', () => {
    expect(refusal(() => inputsHash({ a: nested(100_000) })).code).toBe('ERR_INPUTS');
    expect(refusal(() => inputsHash({ t: 'x'.repeat(MAX_INPUTS_BYTES) })).code).toBe('ERR_INPUTS');
  });
});
