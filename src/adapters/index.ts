export { InvokeArgsSchema, type Adapter, type InvokeArgs, type InvokeControl, type InvokeOutcome } from './adapter';
export {
  CONTAINER_UID,
  CONTAINER_USER,
  HEARTBEAT_INTERVAL_MS,
  LABELS,
  TMPFS_OPTIONS,
  containerCreateOptions,
  containerName,
  createDockerAdapter,
  type AdapterLogger,
  type DockerAdapterDeps,
} from './docker/index';
export { connectDocker, dockerEngineStatus, type DockerEngineStatus } from './docker-engine';
export { LogTail, TAIL_MAX_BYTES, TAIL_MAX_LINES } from './log-tail';
