// What the local adapter is built from; the worker bootstrap builds these once.
import type Dockerode from 'dockerode';

export interface AdapterLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
}

export interface DockerAdapterDeps {
  docker: Dockerode;
  /** Applied to the stderr tail after the run's own secret values have been removed. */
  redact?: (s: string) => string;
  /**
   * Registry host to pull pinned images from when they are not present locally (e.g. `127.0.0.1:5000`).
   * When it differs from the image's own host, `<pullRegistry>/<path>@<digest>` is pulled and run instead —
   * same digest, so the engine still verifies the bytes; unset pulls from the image's own host.
   */
  pullRegistry?: string;
  logger?: AdapterLogger;
  /**
   * Network for real-mode runs whose runtime asks for `egress`; default `bridge`. Mock mode is always
   * `none`. A dockerd started with `--bridge=none` (as on the reference dev machine) has no `bridge`
   * network: such runs then fail with ERR_ADAPTER_UNAVAILABLE until a network is created and named here.
   */
  egressNetwork?: string;
  /** How long an attempt waits for an engine that does not answer (a dockerd restart); default 20 s. */
  engineWaitMs?: number;
  /** Test hook: how long a retry waits for another attempt to finish preparing a created container. */
  preparedWaitMs?: number;
}
