// Engine calls of one run that are more than a single request: reachability, the pinned image made present
// (pulled by digest when missing, platform checked), the network checked, the container created.
import type Dockerode from 'dockerode';
import { WorldloopError } from '../../contracts/errors';
import type { Platform } from '../../contracts/schemas';
import { engineError, ignoreStatus, isUnreachable, messageOf, sleep, statusOf, withTimeout } from './engine-errors';
import { formatImageRef, type PinnedImageRef } from '../../oci/image-ref';

export type Inspect = Dockerode.ContainerInspectInfo;

/**
 * Waits up to `maxMs` for the engine to answer (a dockerd restarting takes seconds), calling `onWait` while
 * it waits so the activity keeps heartbeating; then ERR_ADAPTER_UNAVAILABLE, which Temporal retries.
 */
export async function waitForEngine(
  docker: Dockerode,
  maxMs: number,
  onWait: () => void,
  signal?: AbortSignal,
): Promise<void> {
  const until = Date.now() + maxMs;
  for (;;) {
    try {
      await withTimeout(docker.ping(), 5_000, 'ping');
      return;
    } catch (err) {
      if (Date.now() >= until || signal?.aborted) {
        throw new WorldloopError('ERR_ADAPTER_UNAVAILABLE', `the Docker engine does not answer: ${messageOf(err)}`, {
          cause: err,
        });
      }
    }
    onWait();
    await sleep(Math.min(1_000, Math.max(0, until - Date.now())));
  }
}

/** The container's state, undefined when it does not exist. */
export async function inspectContainer(docker: Dockerode, idOrName: string): Promise<Inspect | undefined> {
  try {
    return await ignoreStatus(docker.getContainer(idOrName).inspect(), 404);
  } catch (err) {
    throw engineError(err, `inspect ${idOrName}`);
  }
}

async function inspectImage(docker: Dockerode, ref: string): Promise<Dockerode.ImageInspectInfo | undefined> {
  try {
    return await ignoreStatus(docker.getImage(ref).inspect(), 404);
  } catch (err) {
    throw engineError(err, `image inspect ${ref}`);
  }
}

function checkPlatform(ref: string, info: Dockerode.ImageInspectInfo, platform: Platform): string {
  if (info.Architecture !== platform || (info.Os && info.Os !== 'linux')) {
    throw new WorldloopError(
      'ERR_IMAGE_UNPINNED',
      `image ${ref} is ${info.Os}/${info.Architecture}, but the pin is for linux/${platform}`,
    );
  }
  return ref;
}

/** The same digest served by `pullRegistry` when that differs from the image's own host. */
export function mirrorRef(img: PinnedImageRef, pullRegistry: string | undefined): string | undefined {
  return pullRegistry && pullRegistry !== img.registry ? `${pullRegistry}/${img.path}@${img.digest}` : undefined;
}

/** Makes the pinned image present locally (pulling it by digest if needed) and returns the ref to run. */
export async function ensureImage(
  docker: Dockerode,
  img: PinnedImageRef,
  platform: Platform,
  pullRegistry: string | undefined,
  onPull: (ref: string) => void,
): Promise<string> {
  const mirror = mirrorRef(img, pullRegistry);
  const pinned = formatImageRef(img);
  for (const ref of mirror ? [pinned, mirror] : [pinned]) {
    const info = await inspectImage(docker, ref);
    if (info) return checkPlatform(ref, info, platform);
  }
  const pullRef = mirror ?? pinned;
  onPull(pullRef);
  try {
    const stream = await docker.pull(pullRef, { platform: `linux/${platform}` });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
    });
  } catch (err) {
    if (isUnreachable(err)) throw engineError(err, `pull ${pullRef}`);
    throw new WorldloopError('ERR_OCI', `pulling ${pullRef} failed: ${messageOf(err)}`, { cause: err });
  }
  const info = await inspectImage(docker, pullRef);
  if (!info) throw new WorldloopError('ERR_OCI', `pulled ${pullRef} but the engine does not list it`);
  return checkPlatform(pullRef, info, platform);
}

/**
 * A dockerd started with `--bridge=none` (the reference dev machine) has no `bridge` network, yet still
 * accepts NetworkMode "bridge" and starts the container with no network at all: the provider call would
 * then fail deep inside the processor. Refuse up front, with the fix, instead.
 */
async function checkNetwork(docker: Dockerode, network: string): Promise<void> {
  let found;
  try {
    found = await ignoreStatus(docker.getNetwork(network).inspect(), 404);
  } catch (err) {
    throw engineError(err, `network inspect ${network}`);
  }
  if (!found) {
    throw new WorldloopError(
      'ERR_ADAPTER_UNAVAILABLE',
      `this real-mode run needs egress, but the Docker engine has no network ${JSON.stringify(network)} (dockerd runs with --bridge=none?); create one (docker network create <name>) and configure it as the adapter's egressNetwork`,
    );
  }
}

/** Creates the container; undefined when the name is already taken (a concurrent attempt won). */
export async function createContainer(
  docker: Dockerode,
  opts: Dockerode.ContainerCreateOptions,
): Promise<Dockerode.Container | undefined> {
  const network = opts.HostConfig?.NetworkMode ?? 'none';
  if (network !== 'none') await checkNetwork(docker, network);
  try {
    return await docker.createContainer(opts);
  } catch (err) {
    if (statusOf(err) === 409) return undefined;
    throw engineError(err, `create ${opts.name ?? ''}`);
  }
}
