// Public surface of src/adapters/modal: explicit named re-exports only.
export { MODAL_APP_NAME_MAX, fullAppName, modalAppName, sanitiseSegment, type AppOwner } from './app-name';
export { createModalClient, type ModalClientHandle } from './client';
export { ModalControlPlane, type ModalControlPlaneOptions } from './control-plane';
export { resolveModalCredentials, type ModalCredentials } from './credentials';
export { sandboxVerdict, type SandboxEnd, type SandboxVerdict } from './exit-status';
export { GRPC, grpcStatusOf, modalErrorCode, toModalError, withDeadline, type ModalStage } from './errors';
export { MAX_OTHER_FILES, safeEntryName, unpackOutputTar, type UnpackSummary } from './output-tar';
