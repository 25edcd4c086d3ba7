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
export { REGISTRY_MODULE_PREFIX, bundleProcessor, type BundleOptions } from './bundle';
