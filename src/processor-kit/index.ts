// Public surface of the processor kit: explicit named re-exports only.
export { parseKitArgs, type KitArgs } from './args';
export { localArtifactInputs, type ArtifactInput } from './artifacts';
export { compileInputsSchema, type InputsValidator } from './inputs';
export { KitLogger, LIFECYCLE_EVENTS, type LifecycleEvent, type LogContext } from './log';
export { checkDeclared, checkOutputSet, checkRelpath, globToRegExp } from './outputs';
export {
  DEFAULT_SECRETS_DIR,
  PROCESSOR_RECEIPT_SCHEMA,
  runProcessor,
  runProcessorMain,
  type KitIo,
} from './run-processor';
export type {
  EmbeddedSpec,
  KitLog,
  OutputItem,
  ProcessorDefinition,
  ProcessorResult,
  Runner,
  RunnerConfig,
  UsageValue,
} from './types';
