// The injective inputs hash (ADR 0010): number literals are accepted only when their RFC 8785 form denotes
// exactly the same decimal value, wherever JSON text enters — our reader, and the worker's payload codec
// for text the SDK would read with JSON.parse. The property test compares against an independent decimal
// model (BigInt mantissa and exponent), not against the code under test.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { refusedPayloadDetail } from '../../src/contracts/refused-payload';
import { inputsHash } from '../../src/hashing/inputs-hash';
import { findHashUnsafeJson } from '../../src/hashing/json-number-scan';
import { parseJsonText } from '../../src/hashing/json-text';
import { exactNumberForm } from '../../src/hashing/number-literal';
import { exactNumbersCodec } from '../../src/temporal/exact-numbers-codec';
import { expectCode } from './helpers/expect-code';

describe('exactNumberForm', () => {
  it.each([
    ['1e30', '1e+30'],
    ['1E30', '1e+30'],
    ['4.50', '4.5'],
    ['1E-7', '1e-7'],
    ['0', '0'],
    ['-0', '0'],
    ['-0.000e-5', '0'],
    ['0e999999999999999999999', '0'],
    ['12345678901234567000', '12345678901234567000'],
    ['9007199254740991', '9007199254740991'],
    ['9007199254740992', '9007199254740992'],
    ['5e-324', '5e-324'],
    ['1.7976931348623157e308', '1.7976931348623157e+308'],
    ['0.1', '0.1'],
    ['100', '100'],
    ['-2.5e-3', '-0.0025'],
    ['00.5e1', '5'],
  ])('%s is exact (canonical %s)', (literal, canonical) => {
    expect(exactNumberForm(literal)).toEqual({ ok: true, canonical });
  });

  it.each([
    ['12345678901234567890', /read as 12345678901234567000/],
    ['333333333.33333329', /read as 333333333\.3333333/],
    ['9007199254740993', /read as 9007199254740992/],
    ['0.1000000000000000055511151231257827', /read as 0\.1\b/],
    ['1e400', /too large for a double/],
    ['-1e400', /too large/],
    ['1e-400', /read as 0/],
    ['2.4703282292062328e-324', /read as 5e-324/],
  ])('%s is refused', (literal, why) => {
    const form = exactNumberForm(literal);
    expect(form.ok).toBe(false);
    expect(form.ok ? '' : form.why).toMatch(why);
  });

  it('every double’s own RFC 8785 text is exact and maps to itself', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        const text = String(d);
        expect(exactNumberForm(text)).toEqual({ ok: true, canonical: text });
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the exact reader at every text entry', () => {
  it('names the JSON pointer and advises a string', () => {
    expect(expectCode('ERR_INPUTS', () => parseJsonText('{"a":{"b~/":[1, 12345678901234567890]}}'))).toBe(
      'inexact number at "/a/b~0~1/1": 12345678901234567890 has more precision than a double holds ' +
        '(it would be read as 12345678901234567000); send it as a string',
    );
  });

  it('reads plain doubles on request (hash jcs --allow-large-numbers)', () => {
    expect(parseJsonText('[12345678901234567890]', { numbers: 'double' })).toEqual([12345678901234567000]);
  });
});

describe('findHashUnsafeJson (the payload scan)', () => {
  it.each([
    ['{"execution_id":"x","request":{"inputs":{"n":[1,{"m":12345678901234567890}]}}}', '"/request/inputs/n/1/m"'],
    ['[0.1, 333333333.33333329]', '"/1"'],
    ['12345678901234567890', '""'],
  ])('finds the inexact literal in %s', (text, pointer) => {
    expect(findHashUnsafeJson(text)).toContain(`inexact number at ${pointer}`);
  });

  it('finds a duplicate member name, which JSON.parse would drop silently', () => {
    expect(findHashUnsafeJson('{"a":{"b":1,"c":2,"b":3}}')).toBe('duplicate member name "b" at "/a/b"');
  });

  it.each([
    '{"request":{"inputs":{"text":"12345678901234567890","n":1e30,"x":[4.50,1E-7,{},[]],"s":"\\"}"}}}',
    '[]',
    '{}',
    'null',
    ' "x" ',
    '{"a":[{"b":[{"c":true}]},false,null]}',
  ])('passes %s', (text) => {
    expect(findHashUnsafeJson(text)).toBeUndefined();
    expect(JSON.parse(text)).toBeDefined();
  });

  it('scans any depth without recursion', () => {
    const deep = `${'['.repeat(200_000)}12345678901234567890${']'.repeat(200_000)}`;
    expect(findHashUnsafeJson(deep)).toMatch(/^inexact number at "\/0\/0/);
    expect(findHashUnsafeJson(`${'['.repeat(200_000)}1${']'.repeat(200_000)}`)).toBeUndefined();
  });

  it('agrees with the exact reader on generated JSON', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(findHashUnsafeJson(text)).toBeUndefined();
        expect(parseJsonText(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });
});

describe('exactNumbersCodec (the worker’s payload codec)', () => {
  const enc = new TextEncoder();
  const payload = (text: string, encoding = 'json/plain') => ({
    metadata: { encoding: enc.encode(encoding) },
    data: enc.encode(text),
  });

  it('passes exact JSON and other encodings through unchanged', async () => {
    const ok = payload('{"inputs":{"n":1e30}}');
    const binary = payload('{"n":12345678901234567890}', 'binary/plain');
    const [a, b] = await exactNumbersCodec.decode([ok, binary]);
    expect(a).toBe(ok);
    expect(b).toBe(binary);
  });

  it('replaces a payload with an inexact number by the marker the workflow refuses with ERR_INPUTS', async () => {
    const [out] = await exactNumbersCodec.decode([payload('{"request":{"inputs":{"n":12345678901234567890}}}')]);
    const decoded: unknown = JSON.parse(new TextDecoder().decode(out!.data!));
    expect(refusedPayloadDetail(decoded)).toMatch(/^payload: inexact number at "\/request\/inputs\/n"/);
    expect(refusedPayloadDetail({ request: {} })).toBeUndefined();
  });
});

// ---- the property: no two distinct accepted inputs share a hash ----

/** An independent decimal model: a literal's exact value as a normalised BigInt mantissa and exponent. */
function exactValue(literal: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal)!;
  let mantissa = BigInt(`${m[2]}${m[3] ?? ''}`);
  let exponent = BigInt(m[4] ?? '0') - BigInt((m[3] ?? '').length);
  if (mantissa === 0n) return '0';
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent += 1n;
  }
  return `${m[1]}${mantissa}e${exponent}`;
}

/** Number literals from a small pool of close or equal values, and from the whole grammar. */
const literal = fc.oneof(
  fc.constantFrom(
    '12345678901234567890',
    '12345678901234567891',
    '12345678901234567000',
    '1.2345678901234567e19',
    '333333333.33333329',
    '333333333.3333333',
    '9007199254740992',
    '9007199254740993',
    '4.5',
    '4.50',
    '45e-1',
    '1e30',
    '1E30',
    '0.1',
    '0.10000000000000001',
    '-0',
    '0',
  ),
  fc
    .tuple(
      fc.boolean(),
      fc.stringMatching(/^(0|[1-9][0-9]{0,24})$/),
      fc.option(fc.stringMatching(/^[0-9]{1,20}$/), { nil: undefined }),
      fc.option(fc.integer({ min: -330, max: 330 }), { nil: undefined }),
    )
    .map(
      ([neg, int, frac, exp]) =>
        `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}${exp === undefined ? '' : `e${exp}`}`,
    ),
);

type Tree = { kind: 'num'; text: string } | { kind: 'str'; text: string } | { kind: 'arr'; items: Tree[] };
const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
  t: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    literal.map((text) => ({ kind: 'num' as const, text })),
    fc.constantFrom('a', '4.5', '1e30').map((text) => ({ kind: 'str' as const, text })),
    fc.array(tie('t'), { maxLength: 3 }).map((items) => ({ kind: 'arr' as const, items })),
  ),
})).t;

const textOf = (t: Tree): string =>
  t.kind === 'num' ? t.text : t.kind === 'str' ? JSON.stringify(t.text) : `[${t.items.map(textOf).join(',')}]`;
const meaningOf = (t: Tree): string =>
  t.kind === 'num'
    ? exactValue(t.text)
    : t.kind === 'str'
      ? JSON.stringify(t.text)
      : `[${t.items.map(meaningOf).join(',')}]`;

function hashOfText(text: string): string | undefined {
  try {
    return inputsHash(parseJsonText(`{"v":${text}}`)).value;
  } catch {
    return undefined; // refused: it cannot collide with anything
  }
}

describe('injectivity', () => {
  it('two accepted inputs share a hash exactly when they denote the same values', () => {
    fc.assert(
      fc.property(tree, tree, (a, b) => {
        const [ha, hb] = [hashOfText(textOf(a)), hashOfText(textOf(b))];
        if (ha === undefined || hb === undefined) return;
        expect(ha === hb).toBe(meaningOf(a) === meaningOf(b));
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses exactly the literals whose double denotes another value', () => {
    fc.assert(
      fc.property(literal, (text) => {
        const accepted = hashOfText(text) !== undefined;
        const n = Number(text);
        const faithful = Number.isFinite(n) && exactValue(String(n).replace('e+', 'e')) === exactValue(text);
        expect(accepted).toBe(faithful);
      }),
      { numRuns: 3000 },
    );
  });
});
