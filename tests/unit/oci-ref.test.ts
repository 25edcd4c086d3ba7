import { describe, expect, it } from 'vitest';
import { WorldloopError } from '../../src/contracts/errors';
import { formatImageRef, isDigest, parseImageRef, parseRepository, sha256Digest } from '../../src/oci/client';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseImageRef', () => {
  it('parses registry, path, tag and digest', () => {
    expect(parseImageRef(`127.0.0.1:5000/worldloop/worldloop/text-stats:v1@${D}`)).toEqual({
      registry: '127.0.0.1:5000',
      path: 'worldloop/worldloop/text-stats',
      tag: 'v1',
      digest: D,
    });
    expect(parseImageRef('ghcr.io/o/r/img')).toEqual({
      registry: 'ghcr.io',
      path: 'o/r/img',
      tag: undefined,
      digest: undefined,
    });
    expect(parseImageRef('localhost/a').registry).toBe('localhost');
  });

  it('round-trips through formatImageRef', () => {
    for (const ref of ['ghcr.io/o/r/img:1.2', `localhost:5000/a/b@${D}`, 'registry.example.com/x_y/z-1.2']) {
      expect(formatImageRef(parseImageRef(ref))).toBe(ref);
    }
  });

  it.each([
    ['library/ubuntu', 'no registry host (Docker Hub is never implied)'],
    ['ubuntu:22.04', 'no path'],
    ['ghcr.io/', 'empty path'],
    ['ghcr.io/Upper/case', 'upper-case path'],
    ['ghcr.io/a//b', 'empty component'],
    ['ghcr.io/a/b@sha256:abc', 'short digest'],
    [`ghcr.io/a/b@sha512:${'a'.repeat(128)}`, 'non-sha256 digest'],
    ['ghcr.io/a/b:-bad', 'tag starting with -'],
    ['ghcr.io/a/b:' + 'x'.repeat(129), 'tag too long'],
    ['ghcr.io/a/../b', 'dot segments'],
  ])('rejects %s (%s)', (input) => {
    expect(() => parseImageRef(input)).toThrow(WorldloopError);
    try {
      parseImageRef(input);
    } catch (err) {
      expect((err as WorldloopError).code).toBe('ERR_OCI');
    }
  });

  it('parseRepository refuses tags and digests', () => {
    expect(() => parseRepository('ghcr.io/a/b:v1')).toThrow(/without tag or digest/);
    expect(parseRepository('ghcr.io/a/b').path).toBe('a/b');
  });

  it('hashes like sha256sum', () => {
    expect(sha256Digest(new TextEncoder().encode('abc'))).toBe(
      'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(isDigest(D)).toBe(true);
    expect(isDigest(D.toUpperCase())).toBe(false);
  });
});
