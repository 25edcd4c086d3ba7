// Golden values computed independently by tests/fixtures/hashing/golden.py (Python `blake3` from PyPI
// over canonical text written by hand), not by our own code.
import { describe, expect, it } from 'vitest';
import { WorldloopError } from '../../src/contracts/errors';
import { InputsHashSchema } from '../../src/contracts/schemas';
import { inputsHash } from '../../src/hashing/inputs-hash';
import { parseJsonText } from '../../src/hashing/json-text';

describe('inputsHash', () => {
  it('matches the independent golden value', () => {
    const inputs = { prompt: 'héllo 😀', opts: { z: null, a: [true, 1.5] }, n: 3 };
    expect(inputsHash(inputs)).toEqual({
      hash_schema: 'jcs-blake3-v1',
      value: '4910e00355027d49e9e5e022e2dbb4531432eea008524f3068c5948875f61045',
    });
    expect(inputsHash({}).value).toBe('6e46dd10defc9b56c29a6ec56b508c21f54c08192194e4df25bf36f0c9c3c279');
  });

  it('satisfies the contract schema', () => {
    expect(InputsHashSchema.parse(inputsHash({ a: 1 }))).toEqual(inputsHash({ a: 1 }));
  });

  it('ignores key order and whitespace, but not values', () => {
    const a = parseJsonText('{"n":3, "opts":{"a":[true,1.5],"z":null}, "prompt":"h\\u00e9llo \\ud83d\\ude00"}');
    expect(inputsHash(a).value).toBe('4910e00355027d49e9e5e022e2dbb4531432eea008524f3068c5948875f61045');
    expect(inputsHash({ a: [1, 2] }).value).not.toBe(inputsHash({ a: [2, 1] }).value);
    expect(inputsHash({ a: 1 }).value).not.toBe(inputsHash({ a: '1' }).value);
  });

  it.each([null, [], [1], 'x', 1, true, undefined])('refuses non-object inputs %j', (v) => {
    expect(() => inputsHash(v)).toThrow(WorldloopError);
    try {
      inputsHash(v);
    } catch (err) {
      expect((err as WorldloopError).code).toBe('ERR_INPUTS');
      expect((err as WorldloopError).detail).toMatch(/must be a JSON object/);
    }
  });

  it('refuses non-I-JSON content with ERR_INPUTS', () => {
    expect(() => inputsHash({ x: NaN })).toThrow(/not I-JSON at "\/x"/);
  });

  it('accepts every finite double, whatever its magnitude (ADR 0010 supersedes the 2^53 limit)', () => {
    expect(inputsHash({ x: 2 ** 60 }).value).not.toBe(inputsHash({ x: 2 ** 60 + 256 }).value);
    expect(inputsHash(parseJsonText('{"x":1E30}'))).toEqual(inputsHash({ x: 1e30 }));
  });
});
