// Pinned image references (`<repository>@sha256:<hex>`). Kept in this one file so the adapter can be pointed
// at the shared image-reference helper of the OCI layer without touching anything else.
import { WorldloopError } from '../../contracts/errors';
import { PinnedImageSchema } from '../../contracts/schemas';

export interface PinnedImage {
  /** As given: `<repository>@sha256:<hex>`. */
  readonly ref: string;
  readonly repository: string;
  readonly digest: string;
  /** The registry host when the repository names one (`ghcr.io`, `127.0.0.1:5000`), else undefined. */
  readonly host: string | undefined;
  /** The repository without its host. */
  readonly path: string;
}

/** Throws ERR_IMAGE_UNPINNED unless `ref` is `<repository>@sha256:<64 hex>` with no tag beside the digest. */
export function parsePinnedImage(ref: string): PinnedImage {
  if (!PinnedImageSchema.safeParse(ref).success) {
    throw new WorldloopError(
      'ERR_IMAGE_UNPINNED',
      `image ${JSON.stringify(ref.slice(0, 300))} is not pinned: expected <repository>@sha256:<64 hex>`,
    );
  }
  const at = ref.indexOf('@');
  const repository = ref.slice(0, at);
  const digest = ref.slice(at + 1);
  const slash = repository.indexOf('/');
  const first = slash === -1 ? '' : repository.slice(0, slash);
  const host = first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
  const path = host === undefined ? repository : repository.slice(slash + 1);
  // A tag next to the digest (`repo:tag@sha256:…`) reads as if the tag mattered; it never does. Refuse it.
  if (path.includes(':')) {
    throw new WorldloopError('ERR_IMAGE_UNPINNED', `image ${ref} carries a tag beside its digest; use the digest only`);
  }
  return { ref, repository, digest, host, path };
}
