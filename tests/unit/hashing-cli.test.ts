// `worldloop hash …` end to end: spawns `node bin/worldloop.js` like a user would.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const FIX = join(ROOT, 'tests/fixtures/hashing');

function cli(args: string[], stdin?: string | Buffer): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/worldloop.js'), 'hash', ...args], {
    input: stdin ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'wl-hash-cli-'));

describe('worldloop hash inputs', () => {
  it('hashes stdin (independent golden: python blake3 of {"a":"x","b":[1,2]})', () => {
    const r = cli(['inputs'], '{ "b": [1, 2],\n "a": "x" }\n');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(
      '{"hash_schema":"jcs-blake3-v1","value":"8b6f3c8bc2104f3e49450175b47c4b9f2bbc9d127e683d66a5aa767995406579"}\n',
    );
  });

  it('hashes --file the same as stdin', () => {
    const f = join(tmp, 'in.json');
    writeFileSync(f, '{"a":"x","b":[1,2]}');
    expect(cli(['inputs', '--file', f]).stdout).toBe(cli(['inputs'], '{"b":[1,2],"a":"x"}').stdout);
  });

  it.each([
    ['invalid JSON', '{"a":', /ERR_INPUTS: invalid JSON at line 1 column 6/],
    ['a non-object', '[1,2]', /ERR_INPUTS: inputs must be a JSON object, got an array/],
    ['a duplicate key', '{"a":1,"a":2}', /duplicate member name "a"/],
    ['a lone surrogate', '{"k":"\\ud800"}', /not I-JSON at "\/k": lone surrogate U\+D800/],
    ['an inexact integer', '{"n":9007199254740993}', /inexact number at "\/n": 9007199254740993 .*send it as a string/],
    ['an inexact fraction', '{"a":[333333333.33333329]}', /inexact number at "\/a\/0"/],
  ])('refuses %s with exit 2 and no stack trace', (_name, input, message) => {
    const r = cli(['inputs'], input);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/To fix:/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--json errors are JSON on stdout', () => {
    const r = cli(['inputs', '--json'], 'nope');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'ERR_INPUTS' });
  });

  it('a missing --file is ERR_USAGE, exit 2', () => {
    const r = cli(['inputs', '--file', join(tmp, 'absent.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ERR_USAGE: cannot read .*ENOENT/);
  });
});

describe('worldloop hash jcs', () => {
  it('prints exactly the canonical bytes, no trailing newline (RFC 8785 §3.2.4 sample)', () => {
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'bin/worldloop.js'),
        'hash',
        'jcs',
        '--allow-large-numbers',
        '--file',
        join(FIX, 'rfc8785/sample-3.2.2.input.json'),
      ],
      { timeout: 60_000 },
    );
    expect(r.status).toBe(0);
    const expected = readFileSync(join(FIX, 'rfc8785/sample-3.2.4.utf8.hex'), 'utf8').replace(/\s+/g, '');
    expect(r.stdout.toString('hex')).toBe(expected);
  });

  it('refuses the same sample without --allow-large-numbers (333333333.33333329 is not a double)', () => {
    const r = cli(['jcs', '--file', join(FIX, 'rfc8785/sample-3.2.2.input.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ERR_INPUTS: inexact number at "\/numbers\/0": 333333333\.33333329/);
  });

  it('accepts literals a double holds exactly, however spelled (1e30, 4.50, 1E-7)', () => {
    expect(cli(['jcs'], '[1e30, 4.50, 1E-7, -0, 12345678901234567000]').stdout).toBe(
      '[1e+30,4.5,1e-7,0,12345678901234567000]',
    );
    expect(cli(['inputs'], '{"n":1E30}').stdout).toBe(cli(['inputs'], '{"n":1000000000000000000000000000000}').stdout);
  });

  it('accepts any JSON value and --json wraps the text', () => {
    expect(cli(['jcs'], '[3, {"b":1,"a":2}]').stdout).toBe('[3,{"a":2,"b":1}]');
    expect(cli(['jcs', '--json'], '"\\u00e9"').stdout).toBe('{"jcs":"\\"é\\""}\n');
  });

  it('its bytes are what inputs_hash hashes', () => {
    const f = join(tmp, 'jcs.out');
    writeFileSync(f, cli(['jcs'], '{"b":[1,2],"a":"x"}').stdout);
    expect(cli(['file', f]).stdout.trim()).toBe(
      (JSON.parse(cli(['inputs'], '{"b":[1,2],"a":"x"}').stdout) as { value: string }).value,
    );
  });
});

describe('worldloop hash file', () => {
  const f = join(tmp, 'blob.bin');
  writeFileSync(
    f,
    Uint8Array.from({ length: 1025 }, (_, i) => i % 251),
  );
  const official1025 = 'd00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444';

  it('prints the BLAKE3 hex (official vector, 1025 bytes)', () => {
    expect(cli(['file', f])).toEqual({ code: 0, stdout: `${official1025}\n`, stderr: '' });
  });

  it('--json adds sha256 and size', () => {
    const r = cli(['file', f, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      path: f,
      blake3: official1025,
      // sha256sum (coreutils) of the same 1025 bytes
      sha256: 'bc0b6b10b89b9487a12fda2a8cc13194e7091c217aabf8b92846274026f4bcd0',
      size_bytes: 1025,
    });
  });

  it('a missing file is ERR_USAGE, exit 2', () => {
    const r = cli(['file', join(tmp, 'nope')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ERR_USAGE: cannot read .*ENOENT/);
  });

  it('a missing argument is ERR_USAGE, exit 2', () => {
    expect(cli(['file']).code).toBe(2);
  });

  it('--help shows examples', () => {
    const r = cli(['file', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples:/);
  });
});
