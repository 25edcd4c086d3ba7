// The local Docker adapter (docs/architecture.md §2 Execute, §8): runs a pinned image in a hardened container, one
// container per execution, named after the execution id so that a retried activity adopts what is already
// there instead of starting a second run.
import type { Adapter, InvokeArgs, InvokeControl } from '../adapter';
import type { DockerAdapterDeps } from './deps';
import { discardContainer, stoppedExecutions } from './execution-container';
import { DockerRun } from './supervisor';

export function createDockerAdapter(deps: DockerAdapterDeps): Adapter {
  return {
    name: 'local',
    invoke: (args: InvokeArgs, ctl?: InvokeControl) => new DockerRun(deps, args, ctl ?? {}).run(),
    discard: (executionId: string) => discardContainer(deps.docker, executionId),
    stoppedContainers: () => stoppedExecutions(deps.docker),
  };
}

export { HEARTBEAT_INTERVAL_MS, LABELS, TMPFS_OPTIONS, containerCreateOptions, containerName } from './container-spec';
export type { AdapterLogger, DockerAdapterDeps } from './deps';
export { costFromReceipt, envelopeFor, type ProcessorFileRead, type TerminationFacts } from './envelope';
export { CONTAINER_UID, CONTAINER_USER } from './host-files';
