// Public surface of src/registry (processor specs, pins, drift): explicit named re-exports, one block per module.
export {
  formatField,
  formatProblem,
  getEntry,
  getRecord,
  hostPlatform,
  imageDigest,
  loadRegistry,
  majorTag,
  pinnedImage,
  validateRegistry,
  type Registry,
  type RegistryProblem,
  type RegistryRecord,
  type ValidateOptions,
} from './registry';
export {
  PROFILES,
  describeFinding,
  pinProblems,
  pinRegistry,
  readPinnedStates,
  readPublished,
  type PinReport,
  type Profile,
} from './pin';
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
