// Public surface of src/registry: explicit named re-exports, one block per module.
export {
  formatField,
  formatProblem,
  getEntry,
  getRecord,
  hostPlatform,
  imageDigest,
  loadRegistry,
  pinnedImage,
  validateRegistry,
  type Registry,
  type RegistryProblem,
  type RegistryRecord,
  type ValidateOptions,
} from './registry';
export { REGISTRY_MODULE_PREFIX, bundleProcessor, embeddedSpec, type BundleOptions } from './bundle';
export {
  MEDIA_TYPES,
  OciClient,
  formatImageRef,
  isDigest,
  parseImageRef,
  parseRepository,
  sha256Digest,
  type ImageRef,
  type Manifest,
  type OciClientOptions,
} from './oci-client';
export {
  REQUIRED_PLATFORMS,
  assertIndexPlatforms,
  buildProcessorImage,
  majorTag,
  platformsOfIndex,
  type BuiltImage,
  type IndexPlatforms,
} from './image-builder';
export { buildAndPush, type BuildOptions, type BuildReport } from './build-push';
export { pinProblems, pinRegistry, readPinnedStates, readPublished, type PinReport, type Profile } from './pin';
export {
  ENVIRONMENTS,
  auditDrift,
  compareDrift,
  promote,
  readDeployed,
  readPins,
  type DriftReport,
  type Environment,
} from './drift';
