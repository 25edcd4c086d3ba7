// Public surface of src/oci (the OCI distribution client, image tarballs, the loopback registry server, index
// platforms): explicit named re-exports, one block per module.
export {
  MEDIA_TYPES,
  OciClient,
  formatImageRef,
  isDigest,
  ociClientFromConfig,
  parseImageRef,
  parseRepository,
  sha256Digest,
  type ImageRef,
  type Manifest,
  type OciClientOptions,
} from './client';
export {
  REQUIRED_PLATFORMS,
  assertIndexPlatforms,
  platformOf,
  platformsOfIndex,
  type IndexPlatforms,
} from './index-platforms';
export { type Layer, type TarEntry, layerFromTar, sha256Hex, writeTar } from './tar';
export { ensureOciRegistry, ociRegistryAnswers, ociRegistryBinary, ociRegistryUrl } from './registry-server';
