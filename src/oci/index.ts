// Public surface of src/oci (image references, the OCI distribution client and its read bounds, image
// tarballs, the loopback registry server, index platforms): explicit named re-exports, one block per module.
export {
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
  repositoryOf,
  sha256Digest,
  type ImageRef,
  type ImageRefResult,
  type PinnedImageRef,
  type RegistryImageRef,
} from './image-ref';
export { MANIFEST_MEDIA_TYPES, MEDIA_TYPES, isIndexMediaType } from './media-types';
export { OciClient, ociClientFromConfig, type Manifest, type OciClientOptions } from './client';
export { READ_LIMITS } from './bounded-body';
export {
  REQUIRED_PLATFORMS,
  assertIndexPlatforms,
  platformOf,
  platformsOfIndex,
  type IndexPlatforms,
} from './index-platforms';
export { type Layer, type TarEntry, layerFromTar, sha256Hex, writeTar } from './tar';
export { ensureOciRegistry, ociRegistryAnswers, ociRegistryBinary, ociRegistryUrl } from './registry-server';
