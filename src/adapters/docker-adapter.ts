// The local adapter's stable entry point: the worker, the CLI and the tests import from here; the code
// lives in ./docker/ (container spec, engine calls, host files, result record, envelope, supervisor).
export {
  CONTAINER_UID,
  CONTAINER_USER,
  HEARTBEAT_INTERVAL_MS,
  LABELS,
  TMPFS_OPTIONS,
  containerCreateOptions,
  containerName,
  createDockerAdapter,
  parsePinnedImage,
  type AdapterLogger,
  type DockerAdapterDeps,
  type PinnedImage,
} from './docker/index';
