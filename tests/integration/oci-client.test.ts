// The OCI client against the real loopback registry (Debian's docker-registry started by the global
// setup): blobs, both manifest media-type families, indexes, tags, chunked uploads and error mapping.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorldloopError } from '../../src/contracts/errors';
import { MEDIA_TYPES, OciClient, sha256Digest } from '../../src/oci';
import { integrationEnv } from './env';

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

function repo(): string {
  return `${integrationEnv().registryHost}/worldloop-test/oci-${randomBytes(4).toString('hex')}/img`;
}

async function pushConfigAndLayer(client: OciClient, repository: string, arch: string) {
  const layer = randomBytes(1024);
  const layerDigest = sha256Digest(layer);
  const config = enc({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDigest] } });
  await client.pushBlob(repository, layer, layerDigest);
  await client.pushBlob(repository, config, sha256Digest(config));
  return { layer, layerDigest, config, configDigest: sha256Digest(config) };
}

describe('OciClient against the loopback registry', () => {
  it('pushes and reads back blobs, OCI manifests and an OCI index', async () => {
    const client = new OciClient();
    const repository = repo();
    const parts = await pushConfigAndLayer(client, repository, 'amd64');
    expect(await client.blobExists(repository, parts.layerDigest)).toBe(true);
    expect(Buffer.from(await client.getBlob(repository, parts.layerDigest, parts.layer.byteLength))).toEqual(
      parts.layer,
    );
    // pushing the same blob again is a no-op
    expect((await client.pushBlob(repository, parts.layer, parts.layerDigest)).uploaded).toBe(false);

    const manifest = enc({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: parts.configDigest, size: parts.config.byteLength },
      layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip, digest: parts.layerDigest, size: parts.layer.byteLength }],
    });
    const mDigest = await client.putManifest(repository, sha256Digest(manifest), manifest, MEDIA_TYPES.ociManifest);
    expect(mDigest).toBe(sha256Digest(manifest));
    const got = await client.getManifest(repository, mDigest);
    expect(got.mediaType).toBe(MEDIA_TYPES.ociManifest);
    expect(got.digest).toBe(mDigest);
    expect(Buffer.from(got.bytes)).toEqual(Buffer.from(manifest));

    const index = enc({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        {
          mediaType: MEDIA_TYPES.ociManifest,
          digest: mDigest,
          size: manifest.byteLength,
          platform: { architecture: 'amd64', os: 'linux' },
        },
      ],
    });
    const iDigest = await client.putManifest(repository, 'v1', index, MEDIA_TYPES.ociIndex);
    expect(await client.headManifest(repository, 'v1')).toBe(iDigest);
    const readIndex = await client.getManifest(repository, 'v1');
    expect(readIndex.mediaType).toBe(MEDIA_TYPES.ociIndex);
    expect(readIndex.digest).toBe(iDigest);
    expect(await client.listTags(repository)).toEqual(['v1']);
  });

  it('pushes and reads back Docker v2 manifests and manifest lists', async () => {
    const client = new OciClient();
    const repository = repo();
    const parts = await pushConfigAndLayer(client, repository, 'arm64');
    const manifest = enc({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerManifest,
      config: { mediaType: MEDIA_TYPES.dockerConfig, digest: parts.configDigest, size: parts.config.byteLength },
      layers: [{ mediaType: MEDIA_TYPES.dockerLayerGzip, digest: parts.layerDigest, size: parts.layer.byteLength }],
    });
    const mDigest = await client.putManifest(repository, 'single', manifest, MEDIA_TYPES.dockerManifest);
    const got = await client.getManifest(repository, 'single');
    expect(got.mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect(got.digest).toBe(mDigest);
    const list = enc({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerManifestList,
      manifests: [
        {
          mediaType: MEDIA_TYPES.dockerManifest,
          digest: mDigest,
          size: manifest.byteLength,
          platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
        },
      ],
    });
    const lDigest = await client.putManifest(repository, 'list', list, MEDIA_TYPES.dockerManifestList);
    const readList = await client.getManifest(repository, lDigest);
    expect(readList.mediaType).toBe(MEDIA_TYPES.dockerManifestList);
    expect((readList.json.manifests as { digest: string }[])[0]!.digest).toBe(mDigest);
    expect(await client.listTags(repository)).toEqual(['list', 'single']);
  });

  it('uploads large blobs in chunks, from a file', async () => {
    const client = new OciClient({ chunkThreshold: 64 * 1024, chunkSize: 100 * 1024 });
    const repository = repo();
    const data = randomBytes(350 * 1024 + 17);
    const file = join(mkdtempSync(join(tmpdir(), 'oci-chunk-')), 'blob');
    writeFileSync(file, data);
    const digest = sha256Digest(data);
    const res = await client.pushBlob(repository, { file }, digest);
    expect(res).toEqual({ digest, size: data.byteLength, uploaded: true });
    expect(Buffer.from(await client.getBlob(repository, digest, data.byteLength))).toEqual(data);
  });

  it('maps registry refusals to ERR_OCI with the status and the registry message', async () => {
    const client = new OciClient();
    const repository = repo();
    expect(await client.headManifest(repository, 'nope')).toBeUndefined();
    expect(await client.blobExists(repository, `sha256:${'0'.repeat(64)}`)).toBe(false);
    expect(await client.listTags(repository)).toEqual([]);
    const err = await client.getManifest(repository, 'nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorldloopError);
    expect((err as WorldloopError).code).toBe('ERR_OCI');
    expect((err as WorldloopError).detail).toMatch(/HTTP 404 \(MANIFEST_UNKNOWN/);
    // a manifest naming a blob the registry does not have is refused by the registry
    const bad = enc({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: `sha256:${'1'.repeat(64)}`, size: 2 },
      layers: [],
    });
    const put = await client.putManifest(repository, 'bad', bad, MEDIA_TYPES.ociManifest).catch((e: unknown) => e);
    expect((put as WorldloopError).code).toBe('ERR_OCI');
    expect((put as WorldloopError).detail).toMatch(/HTTP 400/);
    // bytes that do not match the digest never leave the machine
    await expect(client.pushBlob(repository, new Uint8Array([1]), `sha256:${'2'.repeat(64)}`)).rejects.toThrow(
      /do not hash/,
    );
  });
});
