import { describe, expect, it } from 'vitest';
import { WorldloopError } from '../../src/contracts/errors';
import {
  digestOfRef,
  formatImageRef,
  isDigest,
  isLoopbackHost,
  isRegistryHost,
  parseImageRef,
  parseImageReference,
  parsePinnedImageRef,
  parseRepository,
  pinnedImageProblem,
  sha256Digest,
} from '../../src/oci/image-ref';

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

describe('the one image-reference parser', () => {
  it('parses references with or without a registry host, by Docker’s first-segment rule', () => {
    expect(parseImageReference(`library/busybox@${D}`)).toEqual({
      ok: true,
      ref: { registry: undefined, path: 'library/busybox', tag: undefined, digest: D },
    });
    expect(parseImageReference('localhost:5000/a/b:v1')).toEqual({
      ok: true,
      ref: { registry: 'localhost:5000', path: 'a/b', tag: 'v1', digest: undefined },
    });
    for (const host of ['ghcr.io', '127.0.0.1:5000', 'localhost', 'registry.example.com:443']) {
      expect(isRegistryHost(host)).toBe(true);
    }
    for (const notHost of ['library', 'acme', 'Ghcr.io', '', 'a_b.io']) expect(isRegistryHost(notHost)).toBe(false);
    expect(parseImageReference('ghcr.io/a//b')).toEqual({ ok: false, why: 'path component "" is not valid' });
  });

  // The cases the Docker adapter pinned when it had a parser of its own; it calls this one now, so what it
  // accepts did not change (its boundary's refusals: tests/unit/adapters-docker.test.ts).
  it('parsePinnedImageRef accepts what the adapter accepts', () => {
    expect(parsePinnedImageRef(`ghcr.io/acme/worldloop/text-stats@${D}`)).toEqual({
      registry: 'ghcr.io',
      path: 'acme/worldloop/text-stats',
      repository: 'ghcr.io/acme/worldloop/text-stats',
      tag: undefined,
      digest: D,
    });
    expect(parsePinnedImageRef(`127.0.0.1:5000/a/b@${D}`).registry).toBe('127.0.0.1:5000');
    expect(parsePinnedImageRef(`localhost/a@${D}`).registry).toBe('localhost');
    expect(parsePinnedImageRef(`library/busybox@${D}`)).toMatchObject({ registry: undefined, path: 'library/busybox' });
  });

  it.each([
    'busybox',
    'busybox:latest',
    `busybox:1.36@${D}`,
    `127.0.0.1:5000/a/b:tag@${D}`,
    `a/b@sha256:${'A'.repeat(64)}`,
    `a/b@sha256:${'a'.repeat(63)}`,
    `a/b@sha512:${'a'.repeat(64)}`,
    `A/b@${D}`,
    '',
  ])('parsePinnedImageRef refuses %j with ERR_IMAGE_UNPINNED', (ref) => {
    expect(() => parsePinnedImageRef(ref)).toThrow(/^\[ERR_IMAGE_UNPINNED\]/);
  });

  it('says why a pin is not one, telling a tag apart', () => {
    expect(pinnedImageProblem(`ghcr.io/o/r/i@${D}`)).toBeUndefined();
    expect(pinnedImageProblem('ghcr.io/o/r/i:latest')).toMatch(/is a tag; pins must be digests/);
    expect(pinnedImageProblem(`ghcr.io/o/r/i:v1@${D}`)).toMatch(/carries a tag beside its digest/);
    expect(pinnedImageProblem('ghcr.io/o/r/i@sha256:abc')).toMatch(/is not <repository>@sha256:<64 hex>/);
    expect(digestOfRef(`ghcr.io/o/r/i:v1@${D}`)).toBe(D);
    expect(digestOfRef('ghcr.io/o/r/i:v1')).toBeUndefined();
  });

  it('knows loopback hosts, with or without a port', () => {
    for (const h of ['localhost', 'localhost:5000', '127.0.0.1', '127.0.0.2:8080'])
      expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['ghcr.io', '10.0.0.1:5000', '127.0.0.1.example.com', 'localhost.example.com']) {
      expect(isLoopbackHost(h)).toBe(false);
    }
  });
});
