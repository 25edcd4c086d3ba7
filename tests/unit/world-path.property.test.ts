// Property tests for the WorldPath grammar (docs/architecture.md §4). Generators lean on what breaks path grammars:
// '%', '/', '.', escapes of those, combining marks, precomposed/decomposed pairs, case-fold oddities and long
// segments. Every property counts its cases, and the last test proves the total is at least 100,000.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WorldloopError, type ErrorCode } from '../../src/contracts/errors';
import {
  MAX_PATH_BYTES,
  MAX_RAW_CHARS,
  MAX_SEGMENT_BYTES,
  RESERVED_SEGMENTS,
  canonicalise,
  encodeSegment,
  findDuplicate,
  foldKey,
  isUnderPrefix,
  joinWorldPath,
  prefixesOverlap,
  type CanonResult,
} from '../../src/world/index';

const RUNS = {
  anyInput: 40_000,
  unicodeForms: 15_000,
  respelling: 15_000,
  decodeOnce: 15_000,
  byteLimits: 10_000,
  caseFolding: 10_000,
  prefixes: 5_000,
} as const;
const MIN_TOTAL = 100_000;
const cases = new Map<string, number>();
const count = (name: keyof typeof RUNS): void => void cases.set(name, (cases.get(name) ?? 0) + 1);

const GRAMMAR_CODES: readonly ErrorCode[] = [
  'ERR_PATH_TOO_LONG',
  'ERR_BAD_FACET',
  'ERR_PERCENT_DECODE',
  'ERR_DECODED_SLASH',
  'ERR_FORBIDDEN_CHAR',
  'ERR_DOT_SEGMENTS',
  'ERR_FORBIDDEN_SEGMENT',
  'ERR_SEGMENT_TOO_LONG',
  'ERR_SELECTOR_KIND_MISMATCH',
];
const RESERVED_KEYS = new Set(RESERVED_SEGMENTS.map(foldKey));
const utf8Bytes = (s: string): number => new TextEncoder().encode(s).length;
const chars = (s: string): number => [...s].length;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// ---- generators ------------------------------------------------------------------------------------------

/** Characters and escapes that matter to the grammar, plus Unicode pairs that must meet after NFC/folding. */
const TRICKY = [
  '%',
  '%',
  '/',
  '/',
  '.',
  '.',
  '..',
  '%2e',
  '%2E',
  '%2f',
  '%2F',
  '%5c',
  '%5C',
  '\\',
  '%25',
  '%2525',
  '%252e',
  '%00',
  '%1f',
  '%7F',
  '\u0000',
  '\t',
  '\n',
  '%C3%A9',
  '%c3',
  '%e2%80',
  '%EF%BB%BF',
  '%C0%AF',
  '%C0%AE',
  '%ED%A0%80',
  '%F4%90%80%80',
  '%F0%9F%98%80',
  '%CC%81',
  '%%',
  '%G0',
  '%4',
  '%',
  'e\u0301',
  '\u00e9',
  'A\u030a',
  '\u00c5',
  '\u212b',
  '\u1100\u1161',
  '\uac00',
  '\u0301',
  '\u0308',
  '\u0323',
  '\u0345',
  'o\u0308\u0301',
  '\u1e69',
  's\u0323\u0307',
  's\u0307\u0323',
  '\u00df',
  'SS',
  '\u1e9e',
  '\u212a',
  'K',
  'k',
  '\u03c2',
  '\u03c3',
  '\u03a3',
  '\u0130',
  '\u0131',
  'i\u0307',
  '\ufb01',
  '\u00b5',
  '\u017f',
  '?',
  '#',
  ' ',
  '+',
  '~',
  '.git',
  '.GIT',
  '.Well-Known',
  '.worldloop',
  '.g\u0131t',
  'artifacts',
  'streams',
  'a',
  'Z',
  '0',
  '\u{1F600}',
  '\ud800',
  '\udc00',
  '\ufeff',
  '\u202e',
] as const;

const tricky = fc.constantFrom(...TRICKY);
const anyCodePoint = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });
const ascii = fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 });
const longRun = fc
  .tuple(fc.constantFrom('a', '\u00e9', 'e\u0301', '%25', '%C3%A9', '\u{1F600}', '.', '%2e', '\uac00'), fc.nat(300))
  .map(([t, n]) => t.repeat(n));
const token = fc.oneof(
  { weight: 8, arbitrary: tricky },
  { weight: 3, arbitrary: ascii },
  { weight: 2, arbitrary: anyCodePoint },
  { weight: 1, arbitrary: longRun },
);
const start = fc.constantFrom(
  'world://artifacts/',
  'world://artifacts/',
  'world://streams/',
  '/artifacts/',
  '/streams/',
  'world://',
  '/',
  'WORLD://artifacts/',
  'world:///artifacts//',
  'world:/artifacts/',
  'world:artifacts/',
  'artifacts/',
  'world://artifacts',
  '',
);
const rawPath = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(start, fc.array(token, { maxLength: 40 })).map(([s, t]) => s + t.join('')) },
  { weight: 1, arbitrary: fc.tuple(start, fc.string({ unit: 'binary', maxLength: 60 })).map(([s, t]) => s + t) },
  {
    weight: 1,
    arbitrary: fc.tuple(start, fc.array(longRun, { minLength: 1, maxLength: 20 })).map(([s, t]) => s + t.join('/')),
  },
);

/** Segment material without '/' and without escapes: each token is a literal a file name may hold. */
const LITERAL_TOKENS = TRICKY.filter((t) => !t.includes('/') && !t.includes('\\'));
const literalToken = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...LITERAL_TOKENS) },
  { weight: 2, arbitrary: anyCodePoint.filter((c) => c !== '/') },
  { weight: 1, arbitrary: longRun },
);
const fileName = fc.array(literalToken, { minLength: 1, maxLength: 12 }).map((t) => t.join(''));

/** Unicode-heavy well-formed names (no '/', no controls, no lone surrogates) for normalisation properties. */
const UNICODE_TOKENS = [
  'e\u0301',
  '\u00e9',
  'A\u030a',
  '\u00c5',
  '\u212b',
  '\u1100\u1161',
  '\uac00',
  '\u1100\u1161\u11a8',
  '\uac01',
  'o\u0308\u0301',
  '\u1e69',
  's\u0323\u0307',
  's\u0307\u0323',
  '\u0301',
  '\u0308\u0323',
  'a',
  'B',
  '.',
  '%',
  '%25',
  ' ',
  '?',
  '#',
  '\u00df',
  '\u03a3',
  '\u0130',
  '\u2126',
  '\u03a9',
  '\u0958',
  '\u0915\u093c',
  '\ufb01',
] as const;
const unicodeName = fc
  .array(fc.constantFrom(...UNICODE_TOKENS), { minLength: 1, maxLength: 16 })
  .map((t) => t.join(''));

// ---- oracles ---------------------------------------------------------------------------------------------

/** Plain checks: vitest's expect costs microseconds per call, and these run millions of times. */
function check(condition: boolean, what: string, subject: unknown): void {
  if (!condition) throw new Error(`${what}: ${JSON.stringify(subject)}`);
}

/** Every invariant an accepted path must satisfy, and the fixed-point (idempotence) promise of rule 9. */
function checkAccepted(result: Extract<CanonResult, { ok: true }>): void {
  const { path, kind, facet, segments } = result;
  check(path.startsWith('world://'), 'scheme', path);
  check(facet === 'artifacts' || facet === 'streams', 'facet', result);
  check(kind === (path.endsWith('/') ? 'prefix' : 'exact'), 'kind follows the trailing /', result);
  check(kind === 'prefix' || segments.length > 0, 'an exact path names something below the facet', result);
  const all = [facet, ...segments];
  check(path === `world://${all.map(encodeSegment).join('/')}${kind === 'prefix' ? '/' : ''}`, 'rule 9', result);
  check(utf8Bytes(path) <= MAX_PATH_BYTES, 'canonical path within 1024 bytes', path);
  check(!/%(?!25)/.test(path), 'only %25 escapes in a canonical path', path);
  for (const s of all) {
    check(s.length > 0, 'no empty segment', result);
    check(s !== '.' && s !== '..', 'no dot segment', result);
    check(!s.includes('/') && !s.includes('\\'), 'no decoded slash or backslash', result);
    check(!CONTROL.test(s), 'no control character', result);
    check(!LONE_SURROGATE.test(s), 'well-formed UTF-16', result);
    check(s.normalize('NFC') === s, 'segments are NFC', result);
    check(utf8Bytes(s) <= MAX_SEGMENT_BYTES, 'segment within 255 bytes', result);
    check(!RESERVED_KEYS.has(foldKey(s)), 'no reserved segment', result);
  }
  assert.deepStrictEqual(canonicalise(path), result, 'idempotent: canon(canon(x)) == canon(x)');
  assert.deepStrictEqual(canonicalise(path, kind), result, 'idempotent with the selector kind');
  const mismatch = canonicalise(path, kind === 'exact' ? 'prefix' : 'exact');
  check(!mismatch.ok && mismatch.code === 'ERR_SELECTOR_KIND_MISMATCH', 'the other selector kind', mismatch);
}

function checkResult(result: CanonResult): void {
  if (result.ok) checkAccepted(result);
  else {
    check(GRAMMAR_CODES.includes(result.code), 'a grammar code', result);
    check(!/[\n\r]/.test(result.message), 'one-line message', result);
  }
}

/** Errors compare by code (messages quote the raw spelling); successes compare in full. */
const outcome = (r: CanonResult): unknown => (r.ok ? r : { ok: false, code: r.code });

/** A tiny deterministic PRNG so one generated seed decides a whole respelling (shrinks with the seed). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Spells a decoded segment another way: each code point literal or as %XX bytes (random hex case). */
function respell(decoded: string, rnd: () => number): string {
  let out = '';
  for (const ch of decoded) {
    if (ch !== '%' && rnd() < 0.6) out += ch;
    else {
      for (const b of new TextEncoder().encode(ch)) {
        const hex = b.toString(16).padStart(2, '0');
        out += `%${rnd() < 0.5 ? hex.toUpperCase() : hex}`;
      }
    }
  }
  return out;
}

// ---- properties ------------------------------------------------------------------------------------------

describe(`WorldPath properties (${Object.values(RUNS).reduce((a, b) => a + b, 0)} generated cases)`, () => {
  it(`canonicalise never throws; accepted paths keep every invariant and are fixed points (${RUNS.anyInput} cases)`, () => {
    fc.assert(
      fc.property(rawPath, fc.constantFrom(undefined, 'exact', 'prefix'), (raw, expected) => {
        count('anyInput');
        checkResult(canonicalise(raw));
        const withKind = canonicalise(raw, expected);
        checkResult(withKind);
        const plain = canonicalise(raw);
        if (!plain.ok || expected === undefined || expected === plain.kind) assert.deepStrictEqual(withKind, plain);
      }),
      { numRuns: RUNS.anyInput },
    );
    expect(cases.get('anyInput')).toBe(RUNS.anyInput);
  });

  it(`composed, decomposed and escaped spellings give one canonical form (${RUNS.unicodeForms} cases)`, () => {
    fc.assert(
      fc.property(
        fc.constantFrom('world://artifacts/', '/streams/'),
        fc.array(unicodeName, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.nat(),
        (head, names, prefix, seed) => {
          count('unicodeForms');
          const rnd = prng(seed);
          const tail = prefix ? '/' : '';
          const spell = (f: (s: string) => string): string => head + names.map(f).join('/') + tail;
          const variants = [
            spell((s) => encodeSegment(s.normalize('NFC'))),
            spell((s) => encodeSegment(s.normalize('NFD'))),
            spell((s) => encodeSegment(rnd() < 0.5 ? s.normalize('NFD') : s.normalize('NFC'))),
            spell((s) => encodeURIComponent(s.normalize('NFD'))),
            spell((s) => respell(s.normalize('NFD'), rnd)),
          ].filter((v) => chars(v) <= MAX_RAW_CHARS);
          const [first, ...rest] = variants.map((v) => canonicalise(v));
          if (first === undefined) return;
          checkResult(first);
          for (const r of rest) assert.deepStrictEqual(outcome(r), outcome(first));
          if (first.ok) {
            assert.deepStrictEqual(
              first.segments,
              names.map((s) => s.normalize('NFC')),
            );
          }
        },
      ),
      { numRuns: RUNS.unicodeForms },
    );
    expect(cases.get('unicodeForms')).toBe(RUNS.unicodeForms);
  });

  it(`any percent-spelling of an accepted path canonicalises back to it (${RUNS.respelling} cases)`, () => {
    fc.assert(
      fc.property(rawPath, fc.nat(), (raw, seed) => {
        count('respelling');
        const original = canonicalise(raw);
        if (!original.ok) return;
        const rnd = prng(seed);
        const schemes = ['world://', 'WoRlD://', '/', 'world:///', '//'];
        const scheme = schemes[Math.floor(rnd() * schemes.length)] ?? '/';
        // Respell each segment, sometimes after an extra '/' (an empty segment, which collapses).
        const parts = [original.facet, ...original.segments].map((s) => (rnd() < 0.1 ? '/' : '') + respell(s, rnd));
        const spelled = scheme + parts.join('/') + (original.kind === 'prefix' ? '/' : '');
        if (chars(spelled) > MAX_RAW_CHARS) return;
        assert.deepStrictEqual(canonicalise(spelled), original);
      }),
      { numRuns: RUNS.respelling },
    );
    expect(cases.get('respelling')).toBe(RUNS.respelling);
  });

  it(`a raw file name is decoded exactly once: joinWorldPath keeps it verbatim (NFC) or names the rule (${RUNS.decodeOnce} cases)`, () => {
    fc.assert(
      fc.property(fileName, (name) => {
        count('decodeOnce');
        const nfc = name.normalize('NFC');
        const expected: ErrorCode | undefined = LONE_SURROGATE.test(name)
          ? 'ERR_PERCENT_DECODE'
          : name === ''
            ? 'ERR_SELECTOR_KIND_MISMATCH'
            : name.includes('\\')
              ? 'ERR_DECODED_SLASH'
              : CONTROL.test(name)
                ? 'ERR_FORBIDDEN_CHAR'
                : nfc === '.' || nfc === '..'
                  ? 'ERR_DOT_SEGMENTS'
                  : RESERVED_KEYS.has(foldKey(nfc))
                    ? 'ERR_FORBIDDEN_SEGMENT'
                    : utf8Bytes(nfc) > MAX_SEGMENT_BYTES
                      ? 'ERR_SEGMENT_TOO_LONG'
                      : undefined;
        let joined: string | undefined;
        let code: ErrorCode | undefined;
        try {
          joined = joinWorldPath('world://artifacts/in/', name);
        } catch (err) {
          check(err instanceof WorldloopError, 'a coded error', String(err));
          code = (err as WorldloopError).code;
        }
        // Long names may hit rule 1 (raw characters: '%' triples) before their segment limit.
        if (code === 'ERR_PATH_TOO_LONG') check(chars(encodeSegment(name)) + 21 > MAX_RAW_CHARS, 'rule 1', name);
        else check(code === expected, `expected ${expected} got ${code}`, name);
        if (joined !== undefined) {
          const result = canonicalise(joined);
          check(result.ok && result.kind === 'exact', 'an exact path', result);
          if (result.ok) {
            assert.deepStrictEqual(result.segments, ['in', nfc]);
            checkAccepted(result);
          }
        }
      }),
      { numRuns: RUNS.decodeOnce },
    );
    expect(cases.get('decodeOnce')).toBe(RUNS.decodeOnce);
  });

  it(`byte limits: 255 bytes per decoded segment, 1024 per canonical path, exactly at the boundary (${RUNS.byteLimits} cases)`, () => {
    const unit = fc.constantFrom('a', '\u00e9', 'e\u0301', '%25', '%C3%A9', '\u{1F600}', '\uac00', '\u1100\u1161');
    const segment = fc.tuple(unit, fc.integer({ min: 1, max: 140 })).map(([u, n]) => u.repeat(n));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 8 }), fc.boolean(), (segs, prefix) => {
        count('byteLimits');
        const raw = `world://artifacts/${segs.join('/')}${prefix ? '/' : ''}`;
        const decoded = segs.map((s) => decodeURIComponent(s).normalize('NFC'));
        const canonical = `world://artifacts/${decoded.map(encodeSegment).join('/')}${prefix ? '/' : ''}`;
        const expected: ErrorCode | undefined =
          chars(raw) > MAX_RAW_CHARS
            ? 'ERR_PATH_TOO_LONG'
            : decoded.some((d) => utf8Bytes(d) > MAX_SEGMENT_BYTES)
              ? 'ERR_SEGMENT_TOO_LONG'
              : utf8Bytes(canonical) > MAX_PATH_BYTES
                ? 'ERR_PATH_TOO_LONG'
                : undefined;
        const result = canonicalise(raw);
        if (expected === undefined) {
          check(result.ok && result.path === canonical, `accepted as ${canonical}`, result);
          if (result.ok) checkAccepted(result);
        } else check(!result.ok && result.code === expected, `refused with ${expected}`, result);
      }),
      { numRuns: RUNS.byteLimits },
    );
    expect(cases.get('byteLimits')).toBe(RUNS.byteLimits);
  });

  it(`names that differ only in case are duplicates and overlapping leases (${RUNS.caseFolding} cases)`, () => {
    fc.assert(
      fc.property(fc.array(fileName, { minLength: 1, maxLength: 4 }), fc.nat(), (names, seed) => {
        count('caseFolding');
        const rnd = prng(seed);
        const original = canonicalise(`world://artifacts/${names.map(encodeSegment).join('/')}`);
        if (!original.ok || original.kind !== 'exact') return; // an empty name gives the facet-wide prefix
        // Case maps are applied to the canonical (NFC) segments: Unicode's caseless match (D145) folds after
        // canonical reordering, so flipping the raw spelling would compare different strings.
        const flip = (s: string): string =>
          [...s].map((c) => (rnd() < 0.5 ? c.toUpperCase() : rnd() < 0.5 ? c.toLowerCase() : c)).join('');
        const variant = canonicalise(
          `world://artifacts/${original.segments.map((n) => encodeSegment(flip(n))).join('/')}`,
        );
        if (!variant.ok) return; // e.g. ß → SS pushed a segment past 255 bytes
        const dup = findDuplicate([original.path, variant.path]);
        check(dup?.first === original.path && dup.second === variant.path, 'a case-only duplicate', variant);
        check(prefixesOverlap(original.path, variant.path), 'case-only twins overlap', variant);
        for (const other of [`${original.path}x`, `${original.path}/`]) {
          // A longer name, or the prefix of the same name, is no duplicate (when it is still a valid path).
          const longer = canonicalise(other);
          if (longer.ok) check(findDuplicate([original.path, longer.path]) === undefined, 'no duplicate', longer);
        }
      }),
      { numRuns: RUNS.caseFolding },
    );
    expect(cases.get('caseFolding')).toBe(RUNS.caseFolding);
  });

  it(`joined paths stay under their prefix; overlap agrees with containment (${RUNS.prefixes} cases)`, () => {
    fc.assert(
      fc.property(
        fc.array(fileName, { minLength: 0, maxLength: 3 }),
        fc.array(fileName, { minLength: 1, maxLength: 3 }),
        (base, rel) => {
          count('prefixes');
          let prefix: string;
          let joined: string;
          try {
            prefix =
              base.length === 0 ? 'world://artifacts/' : `${joinWorldPath('world://artifacts/', base.join('/'))}/`;
            joined = joinWorldPath(prefix, rel.join('/'));
          } catch (err) {
            check(err instanceof WorldloopError, 'a coded error', String(err));
            return;
          }
          check(isUnderPrefix(prefix, joined), 'joined is under its prefix', [prefix, joined]);
          check(prefixesOverlap(prefix, joined), 'prefix overlaps what it contains', [prefix, joined]);
          check(prefixesOverlap(joined, prefix), 'overlap is symmetric', [prefix, joined]);
          check(prefixesOverlap(prefix, `${joined}/`), 'prefix overlaps a nested prefix', [prefix, joined]);
          check(!isUnderPrefix('world://streams/', joined), 'facets are disjoint', joined);
          check(!prefixesOverlap('world://streams/', joined), 'facets never overlap', joined);
          const exactPrefix = prefix.slice(0, -1);
          if (exactPrefix !== 'world://artifacts') {
            check(!isUnderPrefix(prefix, exactPrefix), 'a file is not under the directory of its name', prefix);
            check(!prefixesOverlap(exactPrefix, joined), 'exact vs exact is equality', [exactPrefix, joined]);
          }
        },
      ),
      { numRuns: RUNS.prefixes },
    );
    expect(cases.get('prefixes')).toBe(RUNS.prefixes);
  });

  it(`ran at least ${MIN_TOTAL} generated cases in all`, () => {
    const total = [...cases.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(MIN_TOTAL);
  });
});
