// RFC 8785 conformance: the RFC's own examples (§3.2.2 sample → §3.2.3 text and §3.2.4 bytes, §3.2.3 key
// order, every row of Appendix B) and cyberphone/json-canonicalization's testdata, plus our I-JSON policy.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WorldloopError } from '../../src/contracts/errors';
import { canonicalize, canonicalizeToBytes, jsonPointer, serializeNumber } from '../../src/hashing/jcs';
import { parseJsonText } from '../../src/hashing/json-text';
import { expectCode } from './helpers/expect-code';

const FIX = join(import.meta.dirname, '../fixtures/hashing');
const read = (rel: string): string => readFileSync(join(FIX, rel), 'utf8');

const fromIeee754 = (hex: string): number => {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
};

describe('RFC 8785 examples', () => {
  // The RFC's sample holds 333333333.33333329, which a double cannot hold: plain RFC 8785 reads it as one.
  const sample = parseJsonText(read('rfc8785/sample-3.2.2.input.json'), { numbers: 'double' });

  it('§3.2.2 sample canonicalises to the §3.2.3 text', () => {
    expect(canonicalize(sample)).toBe(read('rfc8785/sample-3.2.3.output.json'));
  });

  it('§3.2.2 sample gives exactly the §3.2.4 UTF-8 bytes', () => {
    const expected = read('rfc8785/sample-3.2.4.utf8.hex').replace(/\s+/g, '');
    expect(Buffer.from(canonicalizeToBytes(sample)).toString('hex')).toBe(expected);
  });

  it('§3.2.2 sample text is refused by the exact reader because of 333333333.33333329, naming where', () => {
    expect(expectCode('ERR_INPUTS', () => parseJsonText(read('rfc8785/sample-3.2.2.input.json')))).toMatch(
      /inexact number at "\/numbers\/0": 333333333\.33333329 .*read as 333333333\.3333333\); send it as a string/,
    );
  });

  it('§3.2.3 sorts keys by UTF-16 code units', () => {
    const input = parseJsonText(read('rfc8785/key-order-3.2.3.input.json'));
    const out = canonicalize(input);
    expect(out).toBe(read('rfc8785/key-order-3.2.3.output.json'));
    expect([...out.matchAll(/:"([^"]+)"/g)].map((m) => m[1])).toEqual([
      'Carriage Return',
      'One',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
  });

  const rows = (
    JSON.parse(read('rfc8785/appendix-b-numbers.json')) as {
      rows: { ieee754: string; expected: string | null; comment: string }[];
    }
  ).rows;

  it('Appendix B has all 26 rows in the fixture', () => {
    expect(rows).toHaveLength(26);
  });

  it.each(rows.filter((r) => r.expected !== null))('Appendix B $ieee754 → $expected', ({ ieee754, expected }) => {
    const n = fromIeee754(ieee754);
    expect(serializeNumber(n)).toBe(expected);
    expect(canonicalize([n])).toBe(`[${expected}]`);
  });

  it.each(rows.filter((r) => r.expected === null))('Appendix B $ieee754 ($comment) is rejected', ({ ieee754 }) => {
    const n = fromIeee754(ieee754);
    expect(expectCode('ERR_INPUTS', () => canonicalize({ x: n }))).toMatch(/"\/x".*not a finite/);
    expect(expectCode('ERR_INPUTS', () => serializeNumber(n))).toMatch(/finite/);
  });
});

describe('cyberphone/json-canonicalization testdata', () => {
  const names = readdirSync(join(FIX, 'cyberphone/input')).sort();
  it('has the seven cases', () => {
    expect(names).toEqual([
      'arrays.json',
      'french.json',
      'simpleString.json',
      'structures.json',
      'unicode.json',
      'values.json',
      'weird.json',
    ]);
  });
  it.each(names)('%s', (name) => {
    const value = parseJsonText(read(`cyberphone/input/${name}`), { numbers: 'double' });
    expect(canonicalize(value)).toBe(read(`cyberphone/output/${name}`));
  });
});

describe('I-JSON policy (ERR_INPUTS with a JSON Pointer)', () => {
  it.each([
    ['lone high surrogate', { a: ['x\uD800y'] }, /"\/a\/0".*lone surrogate U\+D800 in string/],
    ['lone low surrogate', { a: '\uDC00' }, /"\/a".*U\+DC00/],
    ['high surrogate at the end', { a: 'end\uD83D' }, /U\+D83D/],
    ['lone surrogate in a key', { ok: { 'k\uD800': 1 } }, /"\/ok\/k\\ud800".*in key/],
    ['NaN', { n: NaN }, /"\/n".*NaN is not a finite/],
    ['Infinity', [Infinity], /"\/0".*Infinity/],
    ['-Infinity', [-Infinity], /-Infinity/],
    ['undefined member', { u: undefined }, /"\/u".*undefined is not JSON data/],
    ['undefined element', [1, undefined], /"\/1".*undefined/],
    ['undefined top level', undefined, /at "".*undefined/],
    ['function', { f: () => 1 }, /a function/],
    ['symbol', { s: Symbol('x') }, /a symbol/],
    ['bigint', { b: 1n }, /a bigint/],
    ['Date', { d: new Date(0) }, /"\/d".*Date is not a plain object/],
    ['Map', new Map(), /Map/],
    ['Set', { s: new Set() }, /Set/],
    ['class instance', { c: new (class Point {})() }, /Point/],
    ['Uint8Array', { b: new Uint8Array(2) }, /Uint8Array/],
    ['boxed string', { s: new String('x') }, /String/],
    // eslint-disable-next-line no-sparse-arrays -- the hole is the point of this case
    ['sparse array', { a: [1, , 3] }, /"\/a\/1".*sparse/],
    ['symbol-keyed property', { [Symbol('k')]: 1 }, /symbol-keyed/],
    ['key with / and ~ escaped in the pointer', { 'a/b~c': NaN }, /"\/a~1b~0c"/],
  ])('%s', (_name, value, message) => {
    expect(expectCode('ERR_INPUTS', () => canonicalize(value))).toMatch(message);
  });

  it('rejects a cycle but accepts a repeated reference', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(expectCode('ERR_INPUTS', () => canonicalize(cyclic))).toMatch(/"\/self\/back".*cycle/);
    const shared = { x: 1 };
    expect(canonicalize([shared, { y: shared }])).toBe('[{"x":1},{"y":{"x":1}}]');
  });

  it('accepts the safe-integer bounds, −0 as 0, and null-prototype objects', () => {
    expect(canonicalize([Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, -0, 1.5e300 / 1e300])).toBe(
      '[9007199254740991,-9007199254740991,0,1.5]',
    );
    const bare = Object.create(null) as Record<string, number>;
    bare.b = 2;
    bare.a = 1;
    expect(canonicalize(bare)).toBe('{"a":1,"b":2}');
  });

  it('escapes exactly as RFC 8785 §3.2.2.2 says', () => {
    expect(canonicalize('\u0000\b\t\n\u000b\f\r\u001f "\\/\u007f\u0080\u2028😀')).toBe(
      '"\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f \\"\\\\/\u007f\u0080\u2028😀"',
    );
  });

  it('jsonPointer follows RFC 6901', () => {
    expect(jsonPointer([])).toBe('');
    expect(jsonPointer(['a/b', 0, '~'])).toBe('/a~1b/0/~0');
  });
});

describe('properties', () => {
  const jsonValue = fc.jsonValue().filter((v) => {
    try {
      canonicalize(v);
      return true;
    } catch {
      return false;
    }
  });

  it('output is valid JSON that parses back to the same data, and is a fixed point', () => {
    fc.assert(
      fc.property(jsonValue, (v) => {
        const text = canonicalize(v);
        const back = JSON.parse(text) as unknown;
        expect(back).toEqual(JSON.parse(JSON.stringify(v)));
        expect(canonicalize(back)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('key insertion order does not matter', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary-ascii' }), fc.integer()), (d) => {
        const reversed = Object.fromEntries(Object.entries(d).reverse());
        expect(canonicalize(reversed)).toBe(canonicalize(d));
      }),
      { numRuns: 1000 },
    );
  });

  it('every string with a lone surrogate is refused, every well-formed one accepted', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const wellFormed = !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
        if (wellFormed) expect(JSON.parse(canonicalize(s))).toBe(s);
        else expect(() => canonicalize(s)).toThrow(WorldloopError);
      }),
      { numRuns: 2000 },
    );
  });
});
