// The Modal adapter depends on Modal's official JavaScript SDK at one exact version (docs/architecture.md §8). The npm
// name `modal` is ambiguous: an unpinned install brings an unrelated browser package of the same name, and
// Modal's own 0.x releases broke the API at 0.5, 0.6, 0.7, 0.8 and 0.11. This test fails when what is
// installed is not Modal's SDK at the pinned version, or when its client API lost what the adapter calls.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModalClient, NotFoundError, ResourceExhaustedError } from 'modal';
import { REPO_ROOT } from '../../src/config';

const PINNED_VERSION = '0.11.1';

interface PackageJson {
  name?: string;
  version?: string;
  repository?: { url?: string } | string;
  dependencies?: Record<string, string>;
}

/** `modal` exports only ".", so its package.json is found by walking up from the resolved entry point. */
function installedModalPackage(): PackageJson {
  let dir = dirname(createRequire(import.meta.url).resolve('modal'));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
      if (pkg.name !== undefined) return pkg;
    } catch {
      // no package.json at this level: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('no package.json above the resolved modal entry point');
    dir = parent;
  }
}

describe('the Modal SDK dependency', () => {
  it('is pinned exactly in package.json', () => {
    const own = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
    expect(own.dependencies?.modal).toBe(PINNED_VERSION);
  });

  it("is Modal's SDK at the pinned version, not the unrelated package of the same name", () => {
    const pkg = installedModalPackage();
    expect(pkg.name).toBe('modal');
    expect(pkg.version).toBe(PINNED_VERSION);
    const repo = typeof pkg.repository === 'string' ? pkg.repository : (pkg.repository?.url ?? '');
    expect(repo).toMatch(/github\.com\/modal-labs\//);
  });

  it('loads on this Node and exposes the client API the adapter uses', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(20);
    // Explicit credentials: the constructor must not touch the network (no server answers this test).
    const client = new ModalClient({ tokenId: 'ak-test', tokenSecret: 'as-test' });
    try {
      expect(client.version()).toBe(PINNED_VERSION);
      for (const fn of [
        client.apps.fromName,
        client.images.fromRegistry,
        client.secrets.fromName,
        client.sandboxes.create,
        client.sandboxes.fromName,
        client.sandboxes.fromId,
      ]) {
        expect(typeof fn).toBe('function');
      }
    } finally {
      client.close();
    }
    expect(NotFoundError.prototype).toBeInstanceOf(Error);
    expect(ResourceExhaustedError.prototype).toBeInstanceOf(Error);
  });
});
