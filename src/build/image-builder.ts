// Image assembly without a container build: per platform, layer 1 is the base root filesystem of that
// architecture (base-rootfs.ts: Debian's libc and CA certificates, the npm registry's Node 24) and layer 2 holds the platform-independent processor bundle at
// /app/main.js. Config and manifest are written here, byte for byte, so the same bundle and the same base
// packages always give the same digests (no build-time clock, no host user, fixed key order).
import { WorldloopError } from '../contracts/errors';
import type { Platform, RegistryEntry } from '../contracts/schemas';
import type { OciClient } from '../oci/client';
import { parseRepository, sha256Digest } from '../oci/image-ref';
import { MEDIA_TYPES } from '../oci/media-types';
import { REQUIRED_PLATFORMS, platformOf } from '../oci/index-platforms';
import { type Layer, layerFromTar, writeTar } from '../oci/tar';
import { type BaseLayer, NONROOT_UID, buildBaseLayer } from './base-rootfs';

/** The fixed creation time of every image (the layers' mtime is the same instant). */
export const IMAGE_CREATED = '1970-01-01T00:00:00Z';
export const ENTRYPOINT = ['/usr/bin/node', '/app/main.js'] as const;

export interface BuiltImage {
  readonly platform: Platform;
  readonly configBytes: Uint8Array;
  readonly configDigest: string;
  readonly manifestBytes: Uint8Array;
  readonly manifestDigest: string;
  /** base layer first, then the app layer */
  readonly layers: readonly Layer[];
  readonly base: {
    readonly key: string;
    readonly packages: readonly string[];
    readonly node: string;
    readonly cached: boolean;
  };
}

const encoder = new TextEncoder();
const jsonBytes = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

/** The last segment of the repository: the image's own name (`…/text-stats` → `text-stats`). */
export function imageName(repository: string): string {
  return parseRepository(repository).path.split('/').at(-1)!;
}

/** Where the sources live: GitHub for ghcr.io/<owner>/<repo>/…, else the repository itself. */
export function sourceLabel(repository: string): string {
  const ref = parseRepository(repository);
  const [owner, repo] = ref.path.split('/');
  return ref.registry === 'ghcr.io' && owner && repo ? `https://github.com/${owner}/${repo}` : repository;
}

/** The app layer: /app/main.js (the bundle), owned by root and read-only to the processor user. */
export function appLayer(bundle: Uint8Array): Layer {
  return layerFromTar(
    writeTar([
      { type: 'dir', path: 'app', mode: 0o755 },
      { type: 'file', path: 'app/main.js', mode: 0o644, data: bundle },
    ]),
  );
}

export function imageConfig(
  entry: RegistryEntry,
  platform: Platform,
  layers: readonly Layer[],
  base: Pick<BaseLayer, 'key' | 'node'>,
): unknown {
  const p = platformOf(platform);
  return {
    created: IMAGE_CREATED,
    architecture: p.architecture,
    os: p.os,
    ...(p.variant ? { variant: p.variant } : {}),
    config: {
      User: `${NONROOT_UID}:${NONROOT_UID}`,
      Env: [
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'NODE_ENV=production',
        // Node keeps its own CA list; this adds Debian's, which the base layer carries.
        'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
      ],
      Entrypoint: [...ENTRYPOINT],
      WorkingDir: '/work',
      Labels: {
        'org.opencontainers.image.source': sourceLabel(entry.image.repository),
        'org.opencontainers.image.title': imageName(entry.image.repository),
        'org.opencontainers.image.description': entry.description,
        'dev.worldloop.processor.ref': entry.ref,
        'dev.worldloop.base.key': base.key,
        'dev.worldloop.base.node': base.node,
      },
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: [
      {
        created: IMAGE_CREATED,
        created_by: `worldloop base ${base.key} (Debian bookworm libc6, libstdc++6, ca-certificates; ${base.node})`,
      },
      { created: IMAGE_CREATED, created_by: `worldloop app ${entry.ref} (/app/main.js)` },
    ],
  };
}

/** Assembles one platform's image from its base layer and the bundle. Pure given the base layer. */
export function assembleImage(
  entry: RegistryEntry,
  platform: Platform,
  bundle: Uint8Array,
  base: BaseLayer,
): BuiltImage {
  if (base.arch !== platform) {
    throw new WorldloopError('ERR_TOOLCHAIN', `base layer is ${base.arch}, image is ${platform}`);
  }
  const layers = [base, appLayer(bundle)];
  const configBytes = jsonBytes(imageConfig(entry, platform, layers, base));
  const configDigest = sha256Digest(configBytes);
  const manifestBytes = jsonBytes({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: configBytes.byteLength },
    layers: layers.map((l) => ({ mediaType: MEDIA_TYPES.ociLayerGzip, digest: l.digest, size: l.size })),
  });
  return {
    platform,
    configBytes,
    configDigest,
    manifestBytes,
    manifestDigest: sha256Digest(manifestBytes),
    layers: layers.map((l) => ({ blob: l.blob, digest: l.digest, diffId: l.diffId, size: l.size })),
    base: { key: base.key, packages: base.packages, node: base.node, cached: base.cached },
  };
}

/** Builds the image for one platform: base layer (cached per architecture) + app layer. */
export async function buildProcessorImage(args: {
  entry: RegistryEntry;
  platform: Platform;
  bundle: Uint8Array;
  /** the per-machine tools folder that caches the Node runtime tarballs (Config.toolsDir) */
  toolsDir?: string;
  log?: (line: string) => void;
}): Promise<BuiltImage> {
  const base = await buildBaseLayer(args.platform, { toolsDir: args.toolsDir, log: args.log });
  return assembleImage(args.entry, args.platform, args.bundle, base);
}

/** Pushes layers, config and manifest (by digest); returns the manifest digest. */
export async function pushImage(client: OciClient, repository: string, image: BuiltImage): Promise<string> {
  for (const layer of image.layers) await client.pushBlob(repository, layer.blob, layer.digest);
  await client.pushBlob(repository, image.configBytes, image.configDigest);
  return client.putManifest(repository, image.manifestDigest, image.manifestBytes, MEDIA_TYPES.ociManifest);
}

export function indexBytes(images: readonly BuiltImage[]): Uint8Array {
  const order = (p: Platform): number => REQUIRED_PLATFORMS.indexOf(p);
  const sorted = [...images].sort((a, b) => order(a.platform) - order(b.platform));
  return jsonBytes({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: sorted.map((img) => ({
      mediaType: MEDIA_TYPES.ociManifest,
      digest: img.manifestDigest,
      size: img.manifestBytes.byteLength,
      platform: platformOf(img.platform),
    })),
  });
}

/** Pushes the index under each tag and by digest; returns the index digest. */
export async function pushIndex(
  client: OciClient,
  repository: string,
  images: readonly BuiltImage[],
  tags: readonly string[],
): Promise<string> {
  const bytes = indexBytes(images);
  const digest = await client.putManifest(repository, sha256Digest(bytes), bytes, MEDIA_TYPES.ociIndex);
  for (const tag of tags) await client.putManifest(repository, tag, bytes, MEDIA_TYPES.ociIndex);
  return digest;
}
