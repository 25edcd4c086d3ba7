import { describe, expect, it } from 'vitest';
import { parseJsonBytes, parseJsonText } from '../../src/hashing/json-text';
import { expectCode } from './helpers/expect-code';

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
    expect(expectCode('ERR_INPUTS', () => parseJsonText('{"a":{"b":1,"b":2}}'))).toMatch(
      /duplicate member name "b".*"\/a"/,
    );
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
    expect(expectCode('ERR_INPUTS', () => parseJsonText(text))).toMatch(message);
  });

  it('reports line and column', () => {
    expect(expectCode('ERR_INPUTS', () => parseJsonText('{\n  "a": x\n}'))).toMatch(/line 2 column 8/);
  });

  it('refuses absurd nesting with a code, not a stack overflow', () => {
    expect(expectCode('ERR_INPUTS', () => parseJsonText('['.repeat(100_000)))).toMatch(/nesting deeper/);
  });
});

describe('parseJsonBytes', () => {
  it('decodes UTF-8', () => {
    expect(parseJsonBytes(new TextEncoder().encode('{"é":"😀"}'))).toEqual({ é: '😀' });
  });
  it('refuses invalid UTF-8 instead of substituting U+FFFD', () => {
    expect(expectCode('ERR_INPUTS', () => parseJsonBytes(new Uint8Array([0x22, 0xc3, 0x28, 0x22])))).toMatch(
      /not valid UTF-8/,
    );
  });
});
