// Connecting to the Docker engine. dockerode reads DOCKER_HOST (and DOCKER_CERT_PATH/DOCKER_TLS_VERIFY) by
// itself when given no options, so a configured remote engine works without worldloop knowing about it.
import Dockerode from 'dockerode';
import type { Config } from '../config';

export interface DockerEngineStatus {
  readonly ok: boolean;
  readonly version?: string;
  readonly apiVersion?: string;
  readonly error?: string;
}

export function connectDocker(_cfg: Config): Dockerode {
  return new Dockerode();
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
