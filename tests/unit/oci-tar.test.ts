import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type TarEntry, layerFromTar, sha256Hex, writeTar } from '../../src/oci/tar';
import { appLayer } from '../../src/build/image-builder';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const longDir = `usr/share/${'d'.repeat(120)}`;
const entries: TarEntry[] = [
  { type: 'file', path: 'b/z.txt', mode: 0o644, data: enc('zed\n') },
  { type: 'dir', path: 'b', mode: 0o755 },
  { type: 'dir', path: 'a', mode: 0o1777 },
  { type: 'symlink', path: 'b/link', target: '../a' },
  { type: 'dir', path: longDir, mode: 0o755 },
  { type: 'file', path: `${longDir}/${'f'.repeat(110)}.js`, mode: 0o755, data: enc('x'.repeat(1000)) },
];

describe('deterministic tar layers', () => {
  it('gives the same bytes whatever the input order', () => {
    const a = writeTar(entries);
    const b = writeTar([...entries].reverse());
    expect(sha256Hex(a)).toBe(sha256Hex(b));
    expect(layerFromTar(a).digest).toBe(layerFromTar(b).digest);
  });

  it('is read back by GNU tar with sorted names, root owner, mtime 0, modes kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oci-tar-'));
    const file = join(dir, 'layer.tar');
    writeFileSync(file, writeTar(entries));
    const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', file], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(listing.map((l) => l.split(/\s+/).slice(5).join(' '))).toEqual([
      'a/',
      'b/',
      'b/link -> ../a',
      'b/z.txt',
      `${longDir}/`,
      `${longDir}/${'f'.repeat(110)}.js`,
    ]);
    for (const line of listing) {
      expect(line).toContain(' 0/0 ');
      expect(line).toContain('1970-01-01 00:00:00');
    }
    expect(listing[0]!.startsWith('drwxrwxrwt')).toBe(true);
    expect(listing[5]!.startsWith('-rwxr-xr-x')).toBe(true);
    const out = join(dir, 'x');
    execFileSync('mkdir', [out]);
    execFileSync('tar', ['-xf', file, '-C', out]);
    expect(readFileSync(join(out, longDir, `${'f'.repeat(110)}.js`), 'utf8')).toBe('x'.repeat(1000));
  });

  it('diff_id is the hash of the uncompressed tar and the gzip header has no mtime or name', () => {
    const layer = appLayer(enc('console.log(1)\n'));
    const tar = gunzipSync(layer.blob);
    expect(`sha256:${sha256Hex(tar)}`).toBe(layer.diffId);
    expect(`sha256:${sha256Hex(layer.blob)}`).toBe(layer.digest);
    // gzip header: magic, CM, FLG (no FNAME bit), MTIME = 0
    expect([...layer.blob.subarray(0, 8)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    expect(appLayer(enc('console.log(1)\n')).digest).toBe(layer.digest);
    expect(appLayer(enc('console.log(2)\n')).digest).not.toBe(layer.digest);
  });

  it('refuses paths that escape or repeat', () => {
    expect(() => writeTar([{ type: 'dir', path: '/abs', mode: 0o755 }])).toThrow();
    expect(() => writeTar([{ type: 'dir', path: 'a/../b', mode: 0o755 }])).toThrow();
    expect(() =>
      writeTar([
        { type: 'dir', path: 'a', mode: 0o755 },
        { type: 'dir', path: 'a', mode: 0o700 },
      ]),
    ).toThrow(/duplicate/);
  });
});
