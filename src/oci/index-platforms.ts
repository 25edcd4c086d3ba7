// What an image index lists, per platform, and the fail-closed multi-arch assertion that Build & Pin, `worldloop
// pin` and drift promotion all apply to an index as the registry serves it.
import { WorldloopError } from '../contracts/errors';
import type { Platform } from '../contracts/schemas';
import type { Manifest, OciClient } from './client';
import { isIndexMediaType } from './media-types';

export const REQUIRED_PLATFORMS: readonly Platform[] = ['amd64', 'arm64'];

/** The OCI platform object of an image built for `platform`. */
export function platformOf(platform: Platform): { architecture: Platform; os: 'linux'; variant?: 'v8' } {
  return platform === 'arm64'
    ? { architecture: 'arm64', os: 'linux', variant: 'v8' }
    : { architecture: 'amd64', os: 'linux' };
}

export interface IndexPlatforms {
  readonly digest: string;
  /** platform → manifest digest */
  readonly platforms: Partial<Record<Platform, string>>;
}

/** The linux platforms an index lists (OCI or Docker list), by architecture. */
export function platformsOfIndex(index: Manifest): IndexPlatforms {
  if (!isIndexMediaType(index.mediaType)) {
    throw new WorldloopError(
      'ERR_PLATFORM_MISSING',
      `${index.digest} is a single image (${index.mediaType}), not an index`,
    );
  }
  const manifests = Array.isArray(index.json.manifests) ? (index.json.manifests as unknown[]) : [];
  const platforms: Partial<Record<Platform, string>> = {};
  for (const m of manifests) {
    const item = m as { digest?: unknown; platform?: { architecture?: unknown; os?: unknown } };
    if (item.platform?.os !== 'linux' || typeof item.digest !== 'string') continue;
    const arch = item.platform.architecture;
    if ((arch === 'amd64' || arch === 'arm64') && !platforms[arch]) platforms[arch] = item.digest;
  }
  return { digest: index.digest, platforms };
}

/**
 * Fail-closed multi-arch assertion on an index as the registry returned it: every required platform is
 * listed, and each listed image's config names that same architecture (a mislabelled amd64 image listed
 * as arm64 fails here). Throws ERR_PLATFORM_MISSING.
 */
export async function assertIndexPlatforms(
  client: OciClient,
  repository: string,
  index: Manifest,
  required: readonly Platform[] = REQUIRED_PLATFORMS,
): Promise<IndexPlatforms> {
  const found = platformsOfIndex(index);
  const missing = required.filter((p) => !found.platforms[p]);
  if (missing.length > 0) {
    throw new WorldloopError(
      'ERR_PLATFORM_MISSING',
      `${repository}@${index.digest} lists ${Object.keys(found.platforms).join(', ') || 'no linux platform'}; missing linux/${missing.join(', linux/')}`,
    );
  }
  for (const platform of required) {
    const manifest = await client.getManifest(repository, found.platforms[platform]!);
    const config = (manifest.json.config ?? {}) as { digest?: unknown; size?: unknown };
    if (typeof config.digest !== 'string' || typeof config.size !== 'number') {
      throw new WorldloopError('ERR_PLATFORM_MISSING', `${platform} entry ${manifest.digest} has no config descriptor`);
    }
    // read against the size the manifest declares: a registry cannot feed us more than that
    const cfg = JSON.parse(new TextDecoder().decode(await client.getBlob(repository, config.digest, config.size))) as {
      architecture?: string;
      os?: string;
    };
    if (cfg.architecture !== platform || cfg.os !== 'linux') {
      throw new WorldloopError(
        'ERR_PLATFORM_MISSING',
        `${repository}@${manifest.digest} is listed as linux/${platform} but its config says ${cfg.os}/${cfg.architecture}`,
      );
    }
  }
  return found;
}
