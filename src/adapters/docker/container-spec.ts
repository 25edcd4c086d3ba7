// The hardened container configuration for one execution (docs/architecture.md §8): no network in mock mode, read-only
// root, tmpfs /tmp, non-root user, every capability dropped, no-new-privileges, pids/memory/cpu limits.
import type Dockerode from 'dockerode';
import type { InvokeArgs } from '../adapter';
import { CONTAINER_USER, layoutOf } from './host-files';

export const HEARTBEAT_INTERVAL_MS = 2_000;
export const TMPFS_OPTIONS = 'rw,noexec,nosuid,size=64m';
/**
 * Per-container log bound (issue 14, item 2): a processor printing without end must not fill the engine's
 * disk. json-file works on every dockerd and keeps `docker logs` (our stderr tail) readable; at most
 * LOG_MAX_FILES files of LOG_MAX_SIZE each are kept.
 */
export const LOG_MAX_SIZE = '8m';
export const LOG_MAX_FILES = 2;
export const LOG_CONFIG = {
  Type: 'json-file',
  Config: { 'max-size': LOG_MAX_SIZE, 'max-file': String(LOG_MAX_FILES) },
};
export const LABELS = {
  executionId: 'worldloop.execution_id',
  processorRef: 'worldloop.processor_ref',
  mode: 'worldloop.mode',
} as const;

/** `wl-<execution_id>`: the name is the lock that keeps one execution to one container. */
export function containerName(executionId: string): string {
  return `wl-${executionId}`;
}

/** The network a run gets: `none` unless a real-mode runtime asks for egress. */
export function networkFor(a: Pick<InvokeArgs, 'mode' | 'runtime'>, egressNetwork = 'bridge'): string {
  return a.mode === 'real' && a.runtime.network === 'egress' ? egressNetwork : 'none';
}

/**
 * Exported so that a benchmark or a person can run the same image under exactly the same constraints
 * without the adapter around it.
 */
export function containerCreateOptions(
  a: InvokeArgs,
  runRef: string,
  egressNetwork = 'bridge',
): Dockerode.ContainerCreateOptions {
  const paths = layoutOf(a);
  const memory = a.runtime.memory_mb * 1024 * 1024;
  const binds = [`${paths.workdir}:/work:ro`, `${paths.out}:/work/out:rw`];
  if (a.mode === 'real' && Object.keys(a.secrets).length > 0) binds.push(`${paths.secrets}:/run/secrets:ro`);
  const gpu = /^([a-z0-9-]+)(?::([1-8]))?$/.exec(a.runtime.gpu);
  return {
    name: containerName(a.execution_id),
    platform: `linux/${a.platform}`,
    Image: runRef,
    Cmd: [
      '--inputs',
      '@/work/inputs.json',
      '--write-prefix',
      a.write_prefix,
      '--execution-id',
      a.execution_id,
      '--mode',
      a.mode,
      '--out',
      '/work/out',
    ],
    User: CONTAINER_USER,
    Labels: {
      [LABELS.executionId]: a.execution_id,
      [LABELS.processorRef]: a.processor_ref,
      [LABELS.mode]: a.mode,
    },
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    HostConfig: {
      NetworkMode: networkFor(a, egressNetwork),
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': TMPFS_OPTIONS },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: a.runtime.pids,
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(a.runtime.cpu * 1e9),
      Binds: binds,
      RestartPolicy: { Name: 'no' },
      LogConfig: LOG_CONFIG,
      AutoRemove: false,
      ...(gpu && gpu[1] !== 'none'
        ? { DeviceRequests: [{ Count: Number(gpu[2] ?? 1), Capabilities: [['gpu']] }] }
        : {}),
    },
  };
}
