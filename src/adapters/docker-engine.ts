// Connecting to the Docker engine. dockerode reads DOCKER_HOST (and DOCKER_CERT_PATH/DOCKER_TLS_VERIFY) by
// itself when given no options, so a configured remote engine works without worldloop knowing about it.
import Dockerode from 'dockerode';
import { Agent } from 'node:http';
import type { Config } from '../config';

export interface DockerEngineStatus {
  readonly ok: boolean;
  readonly version?: string;
  readonly apiVersion?: string;
  readonly error?: string;
}

export function connectDocker(_cfg: Config): Dockerode {
  const docker = new Dockerode();
  // A fresh connection per request on the local socket. Node's default agent keeps connections alive, and
  // a dockerd shutting down closes its listener but still serves kept-alive connections: an adapter would
  // then create and start a container on an engine that is going away (issue 13, dockerd restart), which
  // fails as if the processor could not start. Refused requests are what tell the adapter to wait instead.
  // (The modem's own fields, which its type declarations leave out.)
  const modem = docker.modem as typeof docker.modem & { socketPath?: unknown; agent?: Agent };
  if (modem.socketPath) modem.agent = new Agent({ keepAlive: false });
  return docker;
}

/** Asks the engine for its version; `ok: false` with the reason when it does not answer in time. */
export async function dockerEngineStatus(docker: Dockerode, timeoutMs = 5_000): Promise<DockerEngineStatus> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const version = await Promise.race([
      docker.version(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, version: version.Version, apiVersion: version.ApiVersion };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
