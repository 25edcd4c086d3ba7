import { describe, expect, it } from 'vitest';
import { WorldloopError } from '../../src/contracts/errors';
import { parseJsonBytes, parseJsonText } from '../../src/hashing/json-text';

function inputsError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WorldloopError);
    expect((err as WorldloopError).code).toBe('ERR_INPUTS');
    return (err as WorldloopError).detail;
  }
  throw new Error('expected ERR_INPUTS, nothing was thrown');
}

describe('parseJsonText', () => {
  it('reads what JSON.parse reads', () => {
    const texts = [
      '{"a":[1,-2.5e-3,true,false,null,"x\\u00e9\\n"],"b":{}}',
      ' [ ] ',
      '"\\ud83d\\ude00"',
      '0',
      '-0.0',
      '{"":{"":[]}}',
      '\t{\r\n"k" : 1e+2 }\n',
    ];
    for (const t of texts) expect(parseJsonText(t)).toEqual(JSON.parse(t));
  });

  it('ignores a leading byte order mark', () => {
    expect(parseJsonText('\uFEFF{"a":1}')).toEqual({ a: 1 });
  });

  it('refuses duplicate member names, naming the object', () => {
    expect(inputsError(() => parseJsonText('{"a":{"b":1,"b":2}}'))).toMatch(/duplicate member name "b".*"\/a"/);
  });

  it('keeps "__proto__" as data', () => {
    const v = parseJsonText('{"__proto__":{"x":1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
  });

  it.each([
    ['', /end of input/],
    ['{', /member name/],
    ['{"a" 1}', /expected ":"/],
    ['[1,]', /unexpected "]"/],
    ['[1 2]', /"," or "]"/],
    ['{"a":1,}', /member name/],
    ["{'a':1}", /member name/],
    ['01', /after the JSON value/],
    ['1.', /after the JSON value/],
    ['+1', /unexpected "\+"/],
    ['NaN', /unexpected "N"/],
    ['tru', /unexpected/],
    ['"a\tb"', /malformed string/],
    ['"\\x"', /malformed string/],
    ['"abc', /malformed string/],
    ['{} {}', /after the JSON value/],
  ])('rejects %j', (text, message) => {
    expect(inputsError(() => parseJsonText(text))).toMatch(message);
  });

  it('reports line and column', () => {
    expect(inputsError(() => parseJsonText('{\n  "a": x\n}'))).toMatch(/line 2 column 8/);
  });

  it('refuses absurd nesting with a code, not a stack overflow', () => {
    expect(inputsError(() => parseJsonText('['.repeat(100_000)))).toMatch(/nesting deeper/);
  });
});

describe('parseJsonBytes', () => {
  it('decodes UTF-8', () => {
    expect(parseJsonBytes(new TextEncoder().encode('{"é":"😀"}'))).toEqual({ é: '😀' });
  });
  it('refuses invalid UTF-8 instead of substituting U+FFFD', () => {
    expect(inputsError(() => parseJsonBytes(new Uint8Array([0x22, 0xc3, 0x28, 0x22])))).toMatch(/not valid UTF-8/);
  });
});
