// Public surface of src/adapters/modal: explicit named re-exports only.
export { MODAL_DEADLINES, createModalAdapter, createModalAdapterFromConfig, type ModalAdapterSetup } from './adapter';
export { MODAL_APP_NAME_MAX, fullAppName, modalAppName, sanitiseSegment, type AppOwner } from './app-name';
export { createModalClient, type ModalClientHandle } from './client';
export { ModalControlPlane, type ModalControlPlaneOptions } from './control-plane';
export { resolveModalCredentials, type ModalCredentials } from './credentials';
export { deployProcessorApp, type DeployProcessorAppInput, type DeployedProcessorApp } from './deploy';
export { sandboxVerdict, type SandboxEnd, type SandboxVerdict } from './exit-status';
export { GRPC, grpcStatusOf, modalErrorCode, toModalError, withDeadline, type ModalStage } from './errors';
export { MAX_OTHER_FILES, safeEntryName, unpackOutputTar, type UnpackSummary } from './output-tar';
export type {
  AppRef,
  ExecHandle,
  ExecOptions,
  ImageRef,
  ModalPort,
  SandboxHandle,
  SandboxSpec,
  SecretRef,
} from './port';
export { EXECUTION_TAG, ModalRun, SANDBOX_GRACE_S, type ModalAdapterDeps } from './sandbox-run';
export { KEEP_ALIVE_COMMAND, PROCESSOR_ENTRYPOINT, collectCommand, processorCommand } from './sandbox-commands';
export { SdkModalPort, type SdkPortOptions } from './sdk-port';
