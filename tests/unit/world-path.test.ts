// WorldPath grammar (docs/architecture.md §4): every rule, every code, the decisions path.ts documents, the helpers
// other modules call, and the `worldloop path canon` CLI.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { WorldloopError, type ErrorCode } from '../../src/contracts/errors';
import {
  assertNoDuplicates,
  canonicalPath,
  canonicalise,
  encodeSegment,
  findDuplicate,
  foldKey,
  isUnderPrefix,
  joinWorldPath,
  prefixesOverlap,
  type SelectorKind,
} from '../../src/world/index';

const ok = (raw: string, path: string, kind?: SelectorKind): [string, string, SelectorKind | undefined] => [
  raw,
  path,
  kind,
];
const bad = (raw: string, code: ErrorCode, kind?: SelectorKind): [string, ErrorCode, SelectorKind | undefined] => [
  raw,
  code,
  kind,
];

function expectCode(raw: string, code: ErrorCode, kind?: SelectorKind): void {
  const result = canonicalise(raw, kind);
  expect(result.ok ? result.path : result.code, JSON.stringify(raw)).toBe(code);
  if (!result.ok) {
    expect(result.message).not.toMatch(/[\n\r]/);
    expect(() => canonicalPath(raw, kind)).toThrow(WorldloopError);
  }
}

const seg = (c: string, n: number): string => c.repeat(n);

describe('accepted inputs and their canonical form', () => {
  it.each([
    ok('world://artifacts/a/b.json', 'world://artifacts/a/b.json'),
    ok('/artifacts/a/b.json', 'world://artifacts/a/b.json'),
    ok('/streams/events', 'world://streams/events'),
    // rule 2: empty segments collapse, a trailing / makes a prefix
    ok('world://artifacts//a///b', 'world://artifacts/a/b'),
    ok('world:///artifacts/a', 'world://artifacts/a'),
    ok('//artifacts/a', 'world://artifacts/a'),
    ok('world://artifacts/a/', 'world://artifacts/a/'),
    ok('world://artifacts/a//', 'world://artifacts/a/'),
    // a prefix that is only the facet selects the whole facet
    ok('world://artifacts/', 'world://artifacts/'),
    ok('/streams/', 'world://streams/'),
    // rule 3: decode once; unreserved escapes and either hex case decode to literals
    ok('world://artifacts/%61%62c', 'world://artifacts/abc'),
    ok('world://artifacts/caf%c3%a9', 'world://artifacts/café'),
    ok('world://artifacts/caf%C3%A9', 'world://artifacts/café'),
    ok('world://artifacts/a%20b', 'world://artifacts/a b'),
    ok('world://artifacts/a b+c', 'world://artifacts/a b+c'),
    ok('world://%61rtifacts/x', 'world://artifacts/x'),
    // rule 9: only % is re-encoded; decode exactly once (%2525 stays a literal %25)
    ok('world://artifacts/100%25', 'world://artifacts/100%25'),
    ok('world://artifacts/%2525', 'world://artifacts/%2525'),
    ok('world://artifacts/%252e%252e', 'world://artifacts/%252e%252e'),
    ok('world://artifacts/%252F', 'world://artifacts/%252F'),
    // ? and # are ordinary characters: no query, no fragment
    ok('world://artifacts/a?b=1#frag', 'world://artifacts/a?b=1#frag'),
    ok('world://artifacts/a%3Fb%23c', 'world://artifacts/a?b#c'),
    ok('world://artifacts/a?/b#/', 'world://artifacts/a?/b#/'),
    // uppercase (or mixed-case) scheme is accepted and written lower-case
    ok('WORLD://artifacts/a', 'world://artifacts/a'),
    ok('World://streams/s/', 'world://streams/s/'),
    // rule 4: NFC, also for escaped decomposed forms
    ok('world://artifacts/e\u0301', 'world://artifacts/\u00e9'),
    ok('world://artifacts/e%CC%81', 'world://artifacts/\u00e9'),
    ok('world://artifacts/\u212b', 'world://artifacts/\u00c5'),
    ok('world://artifacts/\u1100\u1161', 'world://artifacts/\uac00'),
    // dots that are not dot segments
    ok('world://artifacts/...', 'world://artifacts/...'),
    ok('world://artifacts/.a', 'world://artifacts/.a'),
    ok('world://artifacts/a.', 'world://artifacts/a.'),
    ok('world://artifacts/.\u0301', 'world://artifacts/.\u0301'),
    ok('world://artifacts/\uff0e\uff0e', 'world://artifacts/\uff0e\uff0e'),
    // reserved names only as whole segments
    ok('world://artifacts/.gitignore', 'world://artifacts/.gitignore'),
    ok('world://artifacts/git', 'world://artifacts/git'),
    ok('world://artifacts/x.git', 'world://artifacts/x.git'),
    // a BOM is kept, not silently stripped by the decoder
    ok('world://artifacts/%EF%BB%BFx', 'world://artifacts/\ufeffx'),
    ok('world://artifacts/\u{1F600}%F0%9F%98%80', 'world://artifacts/\u{1F600}\u{1F600}'),
    // C1 controls are not in rule 3's list (U+0000–U+001F, U+007F)
    ok('world://artifacts/a%C2%80', 'world://artifacts/a\u0080'),
    // selector kinds
    ok('world://artifacts/a', 'world://artifacts/a', 'exact'),
    ok('world://artifacts/a/', 'world://artifacts/a/', 'prefix'),
    ok('world://artifacts/', 'world://artifacts/', 'prefix'),
  ])('%j → %s (kind %s)', (raw, path, kind) => {
    const result = canonicalise(raw, kind);
    expect(result).toMatchObject({ ok: true, path });
    expect(canonicalPath(raw, kind)).toBe(path);
    // rule 9's promise: canonical forms are fixed points
    expect(canonicalise(path)).toEqual(result);
  });

  it('returns the facet, the selector kind and the decoded segments below the facet', () => {
    expect(canonicalise('/artifacts/a%2525/caf%C3%A9/')).toEqual({
      ok: true,
      path: 'world://artifacts/a%2525/café/',
      kind: 'prefix',
      facet: 'artifacts',
      segments: ['a%25', 'café'],
    });
    expect(canonicalise('world://streams/')).toEqual({
      ok: true,
      path: 'world://streams/',
      kind: 'prefix',
      facet: 'streams',
      segments: [],
    });
  });
});

describe('each rule returns its code', () => {
  const over4096 = `world://artifacts/${'a/'.repeat(2040)}`; // 18 + 4080 = 4098 characters

  it.each([
    // rule 1: raw characters before decoding; code points, not UTF-16 units
    bad(over4096, 'ERR_PATH_TOO_LONG'),
    bad(`/artifacts/${'%'.repeat(5000)}`, 'ERR_PATH_TOO_LONG'), // length wins over the bad escapes
    bad(`/artifacts/${'x/'.repeat(3000)}`, 'ERR_PATH_TOO_LONG'),
    // rule 1: neither world:// nor a leading /
    bad('artifacts/a', 'ERR_BAD_FACET'),
    bad('world:/artifacts/a', 'ERR_BAD_FACET'),
    bad('world:artifacts/a', 'ERR_BAD_FACET'),
    bad('world:\\\\artifacts\\a', 'ERR_BAD_FACET'),
    bad('file:///artifacts/a', 'ERR_BAD_FACET'),
    bad('https://example.com/artifacts/a', 'ERR_BAD_FACET'),
    bad(' /artifacts/a', 'ERR_BAD_FACET'),
    bad('', 'ERR_BAD_FACET'),
    bad('\uff37orld://artifacts/a', 'ERR_BAD_FACET'), // fullwidth W is not the scheme
    // rule 3: strict %XX and strict UTF-8
    bad('world://artifacts/100%', 'ERR_PERCENT_DECODE'),
    bad('world://artifacts/%2', 'ERR_PERCENT_DECODE'),
    bad('world://artifacts/%G1', 'ERR_PERCENT_DECODE'),
    bad('world://artifacts/%%41', 'ERR_PERCENT_DECODE'),
    bad('world://artifacts/%+1', 'ERR_PERCENT_DECODE'),
    bad('world://artifacts/% 41', 'ERR_PERCENT_DECODE'),
    bad('world://artifacts/%u0041', 'ERR_PERCENT_DECODE'),
    bad('world://artifacts/%C3', 'ERR_PERCENT_DECODE'), // truncated sequence
    bad('world://artifacts/%C3\u00a9', 'ERR_PERCENT_DECODE'), // escaped lead byte + literal character
    bad('world://artifacts/%FF', 'ERR_PERCENT_DECODE'),
    bad('world://artifacts/%C0%AF', 'ERR_PERCENT_DECODE'), // overlong "/"
    bad('world://artifacts/%C0%AE%C0%AE', 'ERR_PERCENT_DECODE'), // overlong ".."
    bad('world://artifacts/%ED%A0%80', 'ERR_PERCENT_DECODE'), // UTF-8-encoded surrogate
    bad('world://artifacts/%F4%90%80%80', 'ERR_PERCENT_DECODE'), // above U+10FFFF
    bad('world://artifacts/a\ud800b', 'ERR_PERCENT_DECODE'), // literal unpaired surrogate
    bad('world://artifacts/\udc00', 'ERR_PERCENT_DECODE'),
    bad('world://artifacts/%C3/%A9', 'ERR_PERCENT_DECODE'), // escapes never span segments
    // rule 3: decoded separators
    bad('world://artifacts/a%2Fb', 'ERR_DECODED_SLASH'),
    bad('world://artifacts/a%2fb', 'ERR_DECODED_SLASH'),
    bad('world://artifacts/%5C', 'ERR_DECODED_SLASH'),
    bad('world://artifacts/%5c..', 'ERR_DECODED_SLASH'),
    bad('world://artifacts/a\\b', 'ERR_DECODED_SLASH'), // a literal backslash is still a backslash once decoded
    bad('world://artifacts/%252F/%2F', 'ERR_DECODED_SLASH'),
    // rule 3: control characters, literal or escaped
    bad('world://artifacts/a%00', 'ERR_FORBIDDEN_CHAR'),
    bad('world://artifacts/a\u0000', 'ERR_FORBIDDEN_CHAR'),
    bad('world://artifacts/a%0Ab', 'ERR_FORBIDDEN_CHAR'),
    bad('world://artifacts/a\tb', 'ERR_FORBIDDEN_CHAR'),
    bad('world://artifacts/%1F', 'ERR_FORBIDDEN_CHAR'),
    bad('world://artifacts/%7F', 'ERR_FORBIDDEN_CHAR'),
    bad('world://artifacts/a\u007f', 'ERR_FORBIDDEN_CHAR'),
    // rule 5: dot segments, literal or escaped
    bad('world://artifacts/.', 'ERR_DOT_SEGMENTS'),
    bad('world://artifacts/..', 'ERR_DOT_SEGMENTS'),
    bad('world://artifacts/a/../b', 'ERR_DOT_SEGMENTS'),
    bad('world://artifacts/a/./', 'ERR_DOT_SEGMENTS'),
    bad('world://artifacts/%2e', 'ERR_DOT_SEGMENTS'),
    bad('world://artifacts/%2e%2E', 'ERR_DOT_SEGMENTS'),
    bad('world://artifacts/.%2E/x', 'ERR_DOT_SEGMENTS'),
    bad('/../artifacts/a', 'ERR_DOT_SEGMENTS'),
    bad('world://../artifacts', 'ERR_DOT_SEGMENTS'),
    // rule 6: reserved, case-insensitively, after decoding and NFC
    bad('world://artifacts/.git', 'ERR_FORBIDDEN_SEGMENT'),
    bad('world://artifacts/a/.GIT/config', 'ERR_FORBIDDEN_SEGMENT'),
    bad('world://artifacts/.Git/', 'ERR_FORBIDDEN_SEGMENT'),
    bad('world://artifacts/%2Egit', 'ERR_FORBIDDEN_SEGMENT'),
    bad('world://artifacts/.well-known', 'ERR_FORBIDDEN_SEGMENT'),
    bad('world://artifacts/.WELL-KNOWN', 'ERR_FORBIDDEN_SEGMENT'),
    bad('world://artifacts/.well-\u212anown', 'ERR_FORBIDDEN_SEGMENT'), // KELVIN SIGN folds to k
    bad('world://artifacts/.worldloop', 'ERR_FORBIDDEN_SEGMENT'),
    bad('world://streams/.WorldLoop/x', 'ERR_FORBIDDEN_SEGMENT'),
    bad('world://artifacts/.g\u0131t', 'ERR_FORBIDDEN_SEGMENT'), // dotless ı: NTFS upcases it to I
    // rule 7: 255 UTF-8 bytes per decoded segment
    bad(`world://artifacts/${seg('a', 256)}`, 'ERR_SEGMENT_TOO_LONG'),
    bad(`world://artifacts/${seg('\u00e9', 128)}`, 'ERR_SEGMENT_TOO_LONG'), // 256 bytes, 128 characters
    bad(`world://artifacts/${seg('e\u0301', 127)}xy`, 'ERR_SEGMENT_TOO_LONG'), // NFC 254 bytes + 2
    bad(`world://artifacts/${seg('%C3%A9', 128)}`, 'ERR_SEGMENT_TOO_LONG'),
    bad(`world://artifacts/${seg('\u{1F600}', 64)}`, 'ERR_SEGMENT_TOO_LONG'), // 256 bytes
    // rule 7: 1024 UTF-8 bytes on the canonical form (including world:// and the % re-encoding)
    bad(`world://artifacts/${Array.from({ length: 5 }, () => seg('a', 201)).join('/')}`, 'ERR_PATH_TOO_LONG'),
    bad(`world://artifacts/${seg('%25', 200)}/${seg('%25', 200)}`, 'ERR_PATH_TOO_LONG'), // 18+600+1+600
    bad(`world://artifacts/${Array.from({ length: 5 }, () => seg('\u00e9', 101)).join('/')}`, 'ERR_PATH_TOO_LONG'),
    // rule 8: facet first; an exact path needs something after the facet
    bad('world://artifacts', 'ERR_BAD_FACET'),
    bad('/streams', 'ERR_BAD_FACET'),
    bad('world://', 'ERR_BAD_FACET'),
    bad('world:///', 'ERR_BAD_FACET'),
    bad('/', 'ERR_BAD_FACET'),
    bad('//', 'ERR_BAD_FACET'),
    bad('world://blobs/a', 'ERR_BAD_FACET'),
    bad('world://Artifacts/a', 'ERR_BAD_FACET'), // facets are case-sensitive
    bad('world://artifact/a', 'ERR_BAD_FACET'),
    bad('/world://artifacts/a', 'ERR_BAD_FACET'),
    // selectors
    bad('world://artifacts/a', 'ERR_SELECTOR_KIND_MISMATCH', 'prefix'),
    bad('world://artifacts/a/', 'ERR_SELECTOR_KIND_MISMATCH', 'exact'),
    bad('world://streams/', 'ERR_SELECTOR_KIND_MISMATCH', 'exact'),
  ])('%j → %s (expected kind %s)', (raw, code, kind) => expectCode(raw, code, kind));

  it('counts raw characters as code points, before decoding or collapsing', () => {
    const base = 'world://artifacts/'; // 18 characters
    // 4096 raw characters that collapse to a short path are fine; one more '/' is not.
    const slashes = `${base}a${'/'.repeat(4096 - 18 - 2)}b`;
    expect(slashes.length).toBe(4096);
    expect(canonicalise(slashes)).toMatchObject({ ok: true, path: 'world://artifacts/a/b' });
    expectCode(`${base}a/${'/'.repeat(4096 - 18 - 2)}b`, 'ERR_PATH_TOO_LONG');
    // Escapes count as written (3 characters each), not as the byte they decode to.
    const escapes = `${base}${Array.from({ length: 4 }, () => '%61'.repeat(200)).join('/')}${'/'.repeat(4096 - 18 - 2403)}`;
    expect(escapes.length).toBe(4096);
    expect(canonicalise(escapes).ok).toBe(true);
    expectCode(`${escapes}/`, 'ERR_PATH_TOO_LONG');
    // 200 astral characters are 400 UTF-16 units: counted as 200 characters, so this path of 4096 characters
    // (4296 units) passes rule 1.
    const astral = `${base}${Array.from({ length: 4 }, () => '\u{1F600}'.repeat(50)).join('/')}`;
    const padded = `${astral}${'/'.repeat(4096 - [...astral].length)}`;
    expect([...padded].length).toBe(4096);
    expect(padded.length).toBe(4296);
    expect(canonicalise(padded)).toMatchObject({ ok: true, kind: 'prefix' });
    expectCode(`${padded}/`, 'ERR_PATH_TOO_LONG');
  });

  it('accepts exactly 255 bytes per segment and 1024 bytes per canonical path', () => {
    expect(canonicalise(`world://artifacts/${seg('a', 255)}`).ok).toBe(true);
    expect(canonicalise(`world://artifacts/${seg('\u00e9', 127)}a`).ok).toBe(true);
    // Decomposed input counts after NFC: 255 combining pairs are 510+ bytes raw, 255 bytes composed.
    expect(canonicalise(`world://artifacts/${seg('e\u0301', 127)}`).ok).toBe(true);
    // A segment of 255 '%' is 255 bytes decoded (allowed) and 765 bytes canonical.
    expect(canonicalise(`world://artifacts/${seg('%25', 255)}`).ok).toBe(true);
    // 18 + 4×(250+1) + 2 = 1024 bytes exactly.
    const segments = [seg('a', 250), seg('b', 250), seg('c', 250), seg('d', 250), 'ef'];
    const exact = `world://artifacts/${segments.join('/')}`;
    expect(new TextEncoder().encode(exact).length).toBe(1024);
    expect(canonicalise(exact).ok).toBe(true);
    expectCode(`${exact}g`, 'ERR_PATH_TOO_LONG');
    // The trailing / of a prefix counts too.
    expectCode(`${exact}/`, 'ERR_PATH_TOO_LONG');
  });

  it('applies the rules in order: the earliest broken rule decides the code', () => {
    expectCode(`nope${'%'.repeat(5000)}`, 'ERR_PATH_TOO_LONG'); // 1 (length) before 1 (scheme)
    expectCode('world://artifacts/%2F/%ZZ', 'ERR_PERCENT_DECODE'); // decode errors anywhere before slashes
    expectCode('world://artifacts/%00/%2F', 'ERR_DECODED_SLASH'); // slashes before control characters
    expectCode('world://artifacts/../%00', 'ERR_FORBIDDEN_CHAR'); // 3 before 5
    expectCode('world://artifacts/.git/..', 'ERR_DOT_SEGMENTS'); // 5 before 6
    expectCode(`world://artifacts/${seg('a', 300)}/.git`, 'ERR_FORBIDDEN_SEGMENT'); // 6 before 7
    expectCode(`world://nofacet/${seg('a', 300)}`, 'ERR_SEGMENT_TOO_LONG'); // 7 before 8
    expectCode('world://nofacet/..', 'ERR_DOT_SEGMENTS'); // 5 before 8
    expectCode('world://artifacts', 'ERR_BAD_FACET', 'prefix'); // 8 before the selector
    expectCode('world:/artifacts/a/', 'ERR_BAD_FACET', 'exact');
  });

  it('never throws, whatever it is given', () => {
    for (const raw of [undefined, null, 42, {}, ['world://artifacts/a']] as unknown as string[]) {
      expect(canonicalise(raw)).toMatchObject({ ok: false, code: 'ERR_BAD_FACET' });
    }
    expect(canonicalise('x'.repeat(10_000_000)).ok).toBe(false);
  });

  it('keeps messages on one line and escapes what it echoes', () => {
    const result = canonicalise('world://artifacts/a\nb');
    expect(result).toMatchObject({ ok: false, code: 'ERR_FORBIDDEN_CHAR' });
    if (!result.ok) expect(result.message).toContain('\\n');
    const long = canonicalise(`world://artifacts/${seg('%', 500)}`);
    if (!long.ok) expect(long.message.length).toBeLessThan(200);
  });
});

describe('encodeSegment and joinWorldPath', () => {
  it('encodes only %', () => {
    expect(encodeSegment('a%b c?#é/')).toBe('a%25b c?#é/');
    expect(encodeSegment('%25')).toBe('%2525');
  });

  it('joins raw file names under a prefix, decoding nothing twice', () => {
    expect(joinWorldPath('world://artifacts/runs/r1/', 'outputs/a b.json')).toBe(
      'world://artifacts/runs/r1/outputs/a b.json',
    );
    expect(joinWorldPath('/artifacts/r/', '100%.txt')).toBe('world://artifacts/r/100%25.txt');
    expect(joinWorldPath('/artifacts/r/', '%2e%2e')).toBe('world://artifacts/r/%252e%252e');
    expect(joinWorldPath('/artifacts/r/', '%2F')).toBe('world://artifacts/r/%252F');
    expect(joinWorldPath('world://artifacts/', 'e\u0301.txt')).toBe('world://artifacts/\u00e9.txt');
    expect(joinWorldPath('world://artifacts/x/', '/abs//y')).toBe('world://artifacts/x/abs/y');
    expect(canonicalise(joinWorldPath('world://artifacts/x/', 'a%b/c')).ok).toBe(true);
  });

  it.each([
    ['world://artifacts/r/', '../escape', 'ERR_DOT_SEGMENTS'],
    ['world://artifacts/r/', 'a/./b', 'ERR_DOT_SEGMENTS'],
    ['world://artifacts/r/', '.git/config', 'ERR_FORBIDDEN_SEGMENT'],
    ['world://artifacts/r/', 'a\\b', 'ERR_DECODED_SLASH'],
    ['world://artifacts/r/', 'a\u0000', 'ERR_FORBIDDEN_CHAR'],
    ['world://artifacts/r/', 'dir/', 'ERR_SELECTOR_KIND_MISMATCH'],
    ['world://artifacts/r/', '', 'ERR_SELECTOR_KIND_MISMATCH'],
    ['world://artifacts/r/', '//', 'ERR_SELECTOR_KIND_MISMATCH'],
    ['world://artifacts/r', 'a', 'ERR_SELECTOR_KIND_MISMATCH'],
    ['world://nope/', 'a', 'ERR_BAD_FACET'],
    ['world://artifacts/r/', 'x'.repeat(256), 'ERR_SEGMENT_TOO_LONG'],
  ] as const)('joinWorldPath(%j, %j) throws %s', (prefix, relative, code) => {
    expect(() => joinWorldPath(prefix, relative)).toThrow(expect.objectContaining({ code }));
  });
});

describe('isUnderPrefix and prefixesOverlap', () => {
  it('isUnderPrefix is byte-exact on canonical forms', () => {
    expect(isUnderPrefix('world://artifacts/a/', 'world://artifacts/a/b')).toBe(true);
    expect(isUnderPrefix('world://artifacts/a/', 'world://artifacts/a/b/')).toBe(true);
    expect(isUnderPrefix('world://artifacts/a/', 'world://artifacts/a/')).toBe(true);
    expect(isUnderPrefix('world://artifacts/', 'world://artifacts/a')).toBe(true);
    expect(isUnderPrefix('/artifacts/a/', 'world://artifacts/%61/x')).toBe(true); // any spelling
    expect(isUnderPrefix('world://artifacts/a/', 'world://artifacts/ab')).toBe(false);
    expect(isUnderPrefix('world://artifacts/a/', 'world://artifacts/a')).toBe(false);
    expect(isUnderPrefix('world://artifacts/a/', 'world://streams/a/b')).toBe(false);
    expect(isUnderPrefix('world://artifacts/a/', 'world://artifacts/A/b')).toBe(false); // no folding for grants
    expect(() => isUnderPrefix('world://artifacts/a', 'world://artifacts/a/b')).toThrow(
      expect.objectContaining({ code: 'ERR_SELECTOR_KIND_MISMATCH' }),
    );
    expect(() => isUnderPrefix('world://artifacts/a/', 'world://artifacts/a/../../x')).toThrow(
      expect.objectContaining({ code: 'ERR_DOT_SEGMENTS' }),
    );
  });

  it.each([
    ['world://artifacts/a', 'world://artifacts/a', true],
    ['world://artifacts/a', '/artifacts/%61', true],
    ['world://artifacts/a', 'world://artifacts/b', false],
    ['world://artifacts/a', 'world://artifacts/a/b', false], // exact vs exact: equality only
    ['world://artifacts/a/', 'world://artifacts/a/b', true],
    ['world://artifacts/a/b', 'world://artifacts/a/', true], // symmetric
    ['world://artifacts/a/', 'world://artifacts/ab', false],
    ['world://artifacts/a/', 'world://artifacts/a', false],
    ['world://artifacts/a/', 'world://artifacts/a/b/', true],
    ['world://artifacts/a/b/', 'world://artifacts/a/', true],
    ['world://artifacts/a/', 'world://artifacts/b/', false],
    ['world://artifacts/', 'world://artifacts/x/y', true],
    ['world://artifacts/', 'world://streams/', false],
    ['world://artifacts/x', 'world://streams/x', false],
    // case folding: one file on a case-insensitive disk
    ['world://artifacts/Report', 'world://artifacts/report', true],
    ['world://artifacts/STRASSE/', 'world://artifacts/straße/x', true],
    ['world://artifacts/\u03a3/', 'world://artifacts/\u03c2/a', true],
    ['world://artifacts/A/', 'world://artifacts/a/', true],
  ] as const)('prefixesOverlap(%j, %j) = %s', (a, b, expected) => {
    expect(prefixesOverlap(a, b)).toBe(expected);
    expect(prefixesOverlap(b, a)).toBe(expected);
  });
});

describe('duplicate-after-canon', () => {
  it.each([
    ['same canonical form', 'world://artifacts/a b', '/artifacts/a%20b'],
    ['composed and decomposed', 'world://artifacts/caf\u00e9', 'world://artifacts/cafe\u0301'],
    ['escaped and literal', 'world://artifacts/%C3%A9', 'world://artifacts/\u00e9'],
    ['collapsed slashes', 'world://artifacts/a/b', 'world://artifacts//a///b'],
    ['ASCII case', 'world://artifacts/Report.json', 'world://artifacts/report.JSON'],
    ['ß vs SS', 'world://artifacts/STRASSE', 'world://artifacts/straße'],
    ['ß vs ss', 'world://artifacts/strasse', 'world://artifacts/stra\u00dfe'],
    ['ẞ (capital sharp s) vs ss', 'world://artifacts/\u1e9e', 'world://artifacts/ss'],
    ['Kelvin sign vs K', 'world://artifacts/\u212a', 'world://artifacts/k'],
    ['Angstrom sign vs Å (NFC first)', 'world://artifacts/\u212b', 'world://artifacts/\u00e5'],
    [
      'final sigma vs sigma',
      'world://artifacts/\u03bf\u03b4\u03bf\u03c2',
      'world://artifacts/\u03bf\u03b4\u03bf\u03c3',
    ],
    [
      'capital sigma vs final sigma',
      'world://artifacts/\u039f\u0394\u039f\u03a3',
      'world://artifacts/\u03bf\u03b4\u03bf\u03c2',
    ],
    ['micro sign vs mu', 'world://artifacts/\u00b5', 'world://artifacts/\u03bc'],
    ['long s vs s', 'world://artifacts/\u017f', 'world://artifacts/S'],
    ['ligature ﬁ vs fi', 'world://artifacts/\ufb01le', 'world://artifacts/FILE'],
    ['İ vs i + dot above', 'world://artifacts/\u0130', 'world://artifacts/i\u0307'],
    ['ypogegrammeni', 'world://artifacts/\u1fb3', 'world://artifacts/\u03b1\u03b9'],
    ['dotless ı vs I (NTFS upcase)', 'world://artifacts/\u0131', 'world://artifacts/I'],
    ['Cherokee', 'world://artifacts/\uab70', 'world://artifacts/\u13a0'],
    ['Deseret (astral)', 'world://artifacts/\u{10400}', 'world://artifacts/\u{10428}'],
    ['prefixes too', 'world://artifacts/A/', 'world://artifacts/a/'],
  ])('%s: %j vs %j', (_label, first, second) => {
    const dup = findDuplicate(['world://artifacts/other', first, 'world://streams/x', second]);
    expect(dup).toEqual({ code: 'ERR_OUTPUT_DUPLICATE', first, second, canonical: canonicalPath(first) });
    expect(() => assertNoDuplicates([first, second])).toThrow(
      expect.objectContaining({ code: 'ERR_OUTPUT_DUPLICATE' }),
    );
  });

  it.each([
    ['exact vs prefix', 'world://artifacts/a', 'world://artifacts/a/'],
    ['different facets', 'world://artifacts/a', 'world://streams/a'],
    ['accent is not case', 'world://artifacts/e', 'world://artifacts/\u00e9'],
    ['escaped % is not its escape', 'world://artifacts/%2541', 'world://artifacts/A'],
    ['compatibility forms stay distinct', 'world://artifacts/\ufb01', 'world://artifacts/\ufb01x'],
    ['fullwidth is not ASCII', 'world://artifacts/\uff21', 'world://artifacts/a'],
  ])('no duplicate: %s', (_label, a, b) => {
    expect(findDuplicate([a, b])).toBeUndefined();
    expect(() => assertNoDuplicates([a, b])).not.toThrow();
  });

  it('names both inputs and the kind of collision', () => {
    expect(() => assertNoDuplicates(['/artifacts/a%20b', 'world://artifacts/a b'])).toThrow(
      /"\/artifacts\/a%20b" and "world:\/\/artifacts\/a b" collide: both canonicalise to world:\/\/artifacts\/a b/,
    );
    expect(() => assertNoDuplicates(['/artifacts/README', '/artifacts/readme'])).toThrow(/differ only in case/);
    expect(findDuplicate([])).toBeUndefined();
  });

  it('throws the grammar code for an invalid member', () => {
    expect(() => findDuplicate(['world://artifacts/a', 'world://artifacts/..'])).toThrow(
      expect.objectContaining({ code: 'ERR_DOT_SEGMENTS' }),
    );
  });

  it('no code point but "." folds to a key starting with "." (the reserved-segment fast path relies on it)', () => {
    const offenders: string[] = [];
    for (let c = 0; c <= 0x10ffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      if (c !== 0x2e && foldKey(String.fromCodePoint(c)).startsWith('.')) offenders.push(c.toString(16));
    }
    expect(offenders).toEqual([]);
  });

  it('folds with the full mappings (fold keys)', () => {
    expect(foldKey('Straße')).toBe(foldKey('STRASSE'));
    expect(foldKey('\u212a')).toBe('k');
    expect(foldKey('\u03a3\u03c3\u03c2')).toBe(foldKey('\u03c3\u03c3\u03c3'));
    expect(foldKey('a')).not.toBe(foldKey('\u00e0'));
  });
});

describe('worldloop path canon', () => {
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'worldloop.js');
  const run = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args]);
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('prints the canonical path and exits 0', async () => {
    const r = await run('path', 'canon', '/artifacts/reports/caf%C3%A9.json');
    expect(r).toEqual({ code: 0, stdout: 'world://artifacts/reports/café.json\n', stderr: '' });
    const p = await run('path', 'canon', 'world://artifacts/runs/', '--kind', 'prefix');
    expect(p).toEqual({ code: 0, stdout: 'world://artifacts/runs/\n', stderr: '' });
  });

  it('prints ERR_…: message first on stderr and exits 2', async () => {
    const r = await run('path', 'canon', 'world://artifacts/a/%2e%2e/b');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe('ERR_DOT_SEGMENTS: segment 3 "%2e%2e" is a ".." segment');
    const k = await run('path', 'canon', 'world://artifacts/a', '--kind', 'prefix');
    expect(k.code).toBe(2);
    expect(k.stderr.split('\n')[0]).toMatch(/^ERR_SELECTOR_KIND_MISMATCH: /);
  });

  it('speaks JSON with --json, on success and on error', async () => {
    const good = await run('path', 'canon', 'WORLD://streams//log', '--json');
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual({ ok: true, path: 'world://streams/log' });
    const badRun = await run('path', 'canon', 'world://artifacts', '--json');
    expect(badRun.code).toBe(2);
    expect(JSON.parse(badRun.stdout)).toMatchObject({
      ok: false,
      code: 'ERR_BAD_FACET',
      message: '"world://artifacts" names only the facet; an exact path needs a segment after it',
    });
  });

  it('turns a bad --kind into ERR_USAGE (exit 2)', async () => {
    const r = await run('path', 'canon', 'world://artifacts/a', '--kind', 'both');
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/^ERR_USAGE: /);
  });
});
