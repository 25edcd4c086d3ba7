// One execution's container as the lock that keeps it to one run, across workers that share an engine
// (issue 12, ADR 0020-execution-container-lock). Workers keep their scratch in their own state folders, so
// a retry that lands on another worker finds a container whose /work mount names the first worker's
// workdir: it adopts the container with that workdir (the container's outputs are where it writes them),
// instead of refusing it or, once it ended and was removed, starting a second one. The caller keeps the
// finished container until the outcome is durable in the world store, then discards it here.
import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import type Dockerode from 'dockerode';
import { WorldloopError } from '../../contracts/errors';
import { LABELS, containerName } from './container-spec';
import { engineError, ignoreStatus } from './engine-errors';
import { inspectContainer, type Inspect } from './engine';

/**
 * The workdir the container mounts at /work when it is not `ours` (another worker created it), else
 * undefined. Only a workdir made for this execution (a path segment is the execution id) is taken, and only
 * when it is on this host's disk, which it is whenever the engine is local: an engine runs containers on
 * its own host, so a worker on another host never sees this container at all.
 */
export function foreignWorkdir(info: Inspect, executionId: string, ours: string): string | undefined {
  const mounted = (info.HostConfig.Binds ?? []).map((b) => b.split(':')).find((parts) => parts[1] === '/work')?.[0];
  if (mounted === undefined || mounted === ours) return undefined;
  const name = info.Name.replace(/^\//, '');
  if (!mounted.split(sep).includes(executionId)) {
    throw new WorldloopError(
      'ERR_ADOPTION_REFUSED',
      `container ${name} mounts ${mounted} at /work, which is no workdir of execution ${executionId}`,
    );
  }
  if (!existsSync(mounted)) {
    throw new WorldloopError(
      'ERR_ADOPTION_REFUSED',
      `container ${name} mounts the workdir ${mounted}, which is not on this worker's disk (is the engine remote?)`,
    );
  }
  return mounted;
}

/** Removes the execution's stopped container; a running one, or one labelled for another execution, stays. */
export async function discardContainer(docker: Dockerode, executionId: string): Promise<void> {
  const info = await inspectContainer(docker, containerName(executionId));
  if (!info || info.Config.Labels?.[LABELS.executionId] !== executionId || info.State.Running || info.State.Paused)
    return;
  try {
    await ignoreStatus(docker.getContainer(info.Id).remove({ force: true }), 404, 409);
  } catch (err) {
    throw engineError(err, `remove ${containerName(executionId)}`);
  }
}

/**
 * The executions whose containers on this engine have stopped or never started, by their label; only a
 * container that carries the name this adapter gives that execution counts (anything else is not ours).
 */
export async function stoppedExecutions(docker: Dockerode): Promise<string[]> {
  let listed: Dockerode.ContainerInfo[];
  try {
    listed = await docker.listContainers({
      all: true,
      filters: { label: [LABELS.executionId], status: ['created', 'exited', 'dead'] },
    });
  } catch (err) {
    throw engineError(err, 'list stopped worldloop containers');
  }
  const ids: string[] = [];
  for (const c of listed) {
    const id = c.Labels?.[LABELS.executionId];
    if (id && c.Names?.includes(`/${containerName(id)}`)) ids.push(id);
  }
  return ids.sort();
}
