// Build & Pin, the build half: for each processor, bundle once, assemble one image per platform, push the
// images and an OCI index by digest, read the index BACK from the registry and assert both platforms
// (fail closed: ERR_PLATFORM_MISSING), and only then move the `v<major>` tag to it — so a failed build
// never leaves a one-platform index behind a tag someone pulls.
import { join } from 'node:path';
import { WorldloopError } from '../contracts/errors';
import type { Platform, RegistryEntry } from '../contracts/schemas';
import { bundleProcessor } from './bundle';
import type { OciClient } from '../oci/client';
import { parseRepository, sha256Digest } from '../oci/image-ref';
import { MEDIA_TYPES } from '../oci/media-types';
import { REQUIRED_PLATFORMS, assertIndexPlatforms } from '../oci/index-platforms';
import { getRecord, loadRegistry, majorTag } from '../registry/registry';
import { type BuiltImage, buildProcessorImage, imageName, indexBytes, pushImage } from './image-builder';

export interface PlatformBuild {
  readonly manifest: string;
  readonly config: string;
  readonly layers: readonly string[];
  readonly build_ms: number;
  readonly push_ms: number;
  readonly base_cached: boolean;
}

export interface BuildReport {
  readonly ref: string;
  readonly repository: string;
  readonly tag: string;
  readonly index: string;
  readonly bundle_sha256: string;
  readonly bundle_bytes: number;
  readonly platforms: Partial<Record<Platform, PlatformBuild>>;
}

export interface BuildOptions {
  readonly registryDir: string;
  /** Repository root (where build.entry paths are resolved). */
  readonly root: string;
  readonly client: OciClient;
  /** Default: every entry in the registry. */
  readonly refs?: readonly string[];
  /** `<registry>/<path>`: images go to `<prefix>/<image name>`; default each entry's image.repository. */
  readonly prefix?: string;
  readonly platforms?: readonly Platform[];
  /** false: assemble and report digests without touching the registry (`worldloop build --check`). */
  readonly push?: boolean;
  /** The per-machine tools folder caching the images' Node runtime tarballs (Config.toolsDir). */
  readonly toolsDir?: string;
  readonly log?: (line: string) => void;
}

export function targetRepository(entry: RegistryEntry, prefix: string | undefined): string {
  if (!prefix) return entry.image.repository;
  const repo = `${prefix.replace(/\/+$/, '')}/${imageName(entry.image.repository)}`;
  parseRepository(repo);
  return repo;
}

export async function buildAndPush(options: BuildOptions): Promise<BuildReport[]> {
  const registry = await loadRegistry(options.registryDir, { root: options.root });
  const refs = options.refs && options.refs.length > 0 ? options.refs : [...registry.keys()].sort();
  const platforms = options.platforms ?? REQUIRED_PLATFORMS;
  const reports: BuildReport[] = [];
  for (const ref of refs) {
    const { entry } = getRecord(registry, ref);
    const repository = targetRepository(entry, options.prefix);
    const tag = majorTag(entry.ref);
    const bundle = await bundleProcessor(join(options.root, entry.build.entry), {
      root: options.root,
      registryDir: options.registryDir,
    });
    const images: BuiltImage[] = [];
    const perPlatform: Partial<Record<Platform, PlatformBuild>> = {};
    for (const platform of platforms) {
      const t0 = performance.now();
      const image = await buildProcessorImage({
        entry,
        platform,
        bundle,
        toolsDir: options.toolsDir,
        log: options.log,
      });
      const t1 = performance.now();
      if (options.push !== false) await pushImage(options.client, repository, image);
      const t2 = performance.now();
      images.push(image);
      perPlatform[platform] = {
        manifest: image.manifestDigest,
        config: image.configDigest,
        layers: image.layers.map((l) => l.digest),
        build_ms: Math.round(t1 - t0),
        push_ms: Math.round(t2 - t1),
        base_cached: image.base.cached,
      };
      options.log?.(
        `${ref} ${platform}: ${image.manifestDigest} (build ${Math.round(t1 - t0)} ms, push ${Math.round(t2 - t1)} ms)`,
      );
    }
    const bytes = indexBytes(images);
    const digest = sha256Digest(bytes);
    if (options.push !== false) {
      await options.client.putManifest(repository, digest, bytes, MEDIA_TYPES.ociIndex);
      // Fail closed on what the registry serves, not on what we meant to send.
      const readBack = await options.client.getManifest(repository, digest);
      if (readBack.digest !== digest) {
        throw new WorldloopError('ERR_OCI', `${repository}: index read back as ${readBack.digest}, pushed ${digest}`);
      }
      await assertIndexPlatforms(options.client, repository, readBack);
      await options.client.putManifest(repository, tag, bytes, MEDIA_TYPES.ociIndex);
    } else if (platforms.length !== REQUIRED_PLATFORMS.length) {
      throw new WorldloopError('ERR_PLATFORM_MISSING', `${entry.ref}: built ${platforms.join(', ')} only`);
    }
    reports.push({
      ref: entry.ref,
      repository,
      tag,
      index: digest,
      bundle_sha256: sha256Digest(bundle),
      bundle_bytes: bundle.byteLength,
      platforms: perPlatform,
    });
  }
  return reports;
}

export interface SourceCheck {
  readonly ref: string;
  readonly field: Platform | 'index';
  readonly pinned: string | undefined;
  readonly built: string;
  readonly ok: boolean;
}

/**
 * Compares digests built from the current sources (without pushing) with the committed pins: a
 * mismatch means the sources changed since the last Build & Pin (or the build is not reproducible here).
 */
export function compareBuildToPins(
  reports: readonly BuildReport[],
  pins: readonly { ref: string; repository: string; index?: string; platforms: Partial<Record<Platform, string>> }[],
): SourceCheck[] {
  const out: SourceCheck[] = [];
  for (const r of reports) {
    const pin = pins.find((p) => p.ref === r.ref);
    for (const p of REQUIRED_PLATFORMS) {
      const built = `${pin?.repository ?? r.repository}@${r.platforms[p]?.manifest ?? '(not built)'}`;
      out.push({ ref: r.ref, field: p, pinned: pin?.platforms[p], built, ok: pin?.platforms[p] === built });
    }
    out.push({ ref: r.ref, field: 'index', pinned: pin?.index, built: r.index, ok: pin?.index === r.index });
  }
  return out;
}
