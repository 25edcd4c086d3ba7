// The acceptance lane's "every pinned digest exists": for each registry entry, a HEAD of each platform image
// and of the index by digest. `pin --check` already compares the pins with what the tag points at; this
// proves the pinned content itself is still served (a garbage-collected or never-pushed digest fails here).
import { WorldloopError } from '../contracts/errors';
import { PLATFORMS } from '../contracts/schemas';
import type { OciClient } from '../oci/client';
import { imageDigest, pinnedImage, type Registry } from '../registry/registry';

export interface DigestCheck {
  readonly ref: string;
  readonly what: string;
  readonly digest: string;
  readonly found: boolean;
}

export async function checkPinnedDigests(
  registry: Registry,
  client: Pick<OciClient, 'headManifest'>,
): Promise<DigestCheck[]> {
  const checks: DigestCheck[] = [];
  for (const { entry } of [...registry.values()].sort((a, b) => a.entry.ref.localeCompare(b.entry.ref))) {
    const wanted = PLATFORMS.map((p) => ({ what: `linux/${p}`, digest: imageDigest(pinnedImage(entry, p)) }));
    if (!entry.image.index) throw new WorldloopError('ERR_IMAGE_UNPINNED', `${entry.ref}: image.index is not pinned`);
    wanted.push({ what: 'index', digest: entry.image.index });
    for (const w of wanted) {
      const served = await client.headManifest(entry.image.repository, w.digest);
      checks.push({ ref: entry.ref, what: w.what, digest: w.digest, found: served === w.digest });
    }
  }
  const missing = checks.filter((c) => !c.found);
  if (missing.length > 0) {
    throw new WorldloopError('ERR_DIGEST_NOT_FOUND', missing.map((m) => `${m.ref} ${m.what} ${m.digest}`).join('; '));
  }
  return checks;
}
