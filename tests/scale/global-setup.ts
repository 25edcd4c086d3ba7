// The scale-out lane's world (docs/scale-out.md): three worker "hosts" as network namespaces on one
// bridge, a Temporal cluster (scripts/cluster.sh: 1.29.1 on PostgreSQL, every service bound to the bridge
// address) and a MinIO on the bridge address. Workers reach both only over the bridge. Everything is named
// after one random id and removed at the end, also when the setup fails half way.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { REPO_ROOT } from '../../src/config';
import { createBucket, startMinio, type MinioServer } from '../integration/minio-server';
import { preparedRegistryDir } from '../integration/loop-harness';

const run = promisify(execFile);

export interface ScaleEnv {
  readonly id: string;
  readonly hostIp: string;
  /** Namespace names of the worker hosts, with their addresses. */
  readonly hosts: readonly { readonly netns: string; readonly ip: string }[];
  readonly temporalAddress: string;
  /** The cluster's second frontend (workers on some hosts use it, so a frontend can fail under them). */
  readonly secondFrontend: string;
  /** First of the ports the lane uses (WORLDLOOP_SCALE_PORT_BASE): cluster +0…16, dev server +20/21, MinIO +30/31. */
  readonly portBase: number;
  readonly clusterDir: string;
  readonly clusterEnv: Record<string, string>;
  readonly s3: { endpoint: string; accessKeyId: string; secretAccessKey: string; region: string; bucket: string };
  readonly minioPid: number;
  readonly registryDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    worldloopScale: ScaleEnv;
  }
}

// Fixed ports on the bridge, movable as a block when a machine runs several lanes at once.
const PORT_BASE = Number(process.env.WORLDLOOP_SCALE_PORT_BASE ?? 17670);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Every namespace, veth and bridge is named wl<id>…: `wls3…` for this lane.
  const id = `s3${Math.random().toString(36).slice(2, 6)}`;
  const t0 = Date.now();
  const cleanups: (() => Promise<unknown>)[] = [];
  const teardown = async (): Promise<void> => {
    for (const step of cleanups.reverse())
      await step().catch((err: unknown) => console.error(`[scale] cleanup: ${String(err)}`));
  };
  try {
    cleanups.push(() => run('bash', ['scripts/netns.sh', 'down', id], { cwd: REPO_ROOT }));
    const up = (await run('bash', ['scripts/netns.sh', 'up', id, '3'], { cwd: REPO_ROOT })).stdout;
    const hostIp = /^HOST_IP=(\S+)$/m.exec(up)![1]!;
    const hosts = [...up.matchAll(/^NS_\d+=(\S+) (\S+)$/gm)].map((m) => ({ netns: m[1]!, ip: m[2]! }));

    const clusterDir = await mkdtemp(join(tmpdir(), 'wl-cluster-'));
    const clusterEnv = {
      WORLDLOOP_CLUSTER_DIR: clusterDir,
      WORLDLOOP_CLUSTER_IP: hostIp,
      WORLDLOOP_CLUSTER_PORT_BASE: String(PORT_BASE),
    };
    const env = { ...process.env, ...clusterEnv };
    cleanups.push(async () => {
      await run('bash', ['scripts/cluster.sh', 'destroy'], { cwd: REPO_ROOT, env });
      await rm(clusterDir, { recursive: true, force: true });
    });
    const started = await run('bash', ['scripts/cluster.sh', 'start'], { cwd: REPO_ROOT, env, timeout: 600_000 });
    const temporalAddress = /^TEMPORAL_ADDRESS=(\S+)$/m.exec(started.stdout)![1]!;

    const minio: MinioServer = await startMinio({ address: hostIp, port: PORT_BASE + 30 });
    cleanups.push(() => minio.dispose());
    const bucket = 'worldloop-scale';
    await createBucket(minio, bucket);

    const registryDir = await preparedRegistryDir();
    const scale: ScaleEnv = {
      id,
      hostIp,
      hosts,
      temporalAddress,
      secondFrontend: `${hostIp}:${PORT_BASE + 4}`,
      portBase: PORT_BASE,
      clusterDir,
      clusterEnv,
      s3: {
        endpoint: minio.endpoint,
        accessKeyId: minio.accessKeyId,
        secretAccessKey: minio.secretAccessKey,
        region: minio.region,
        bucket,
      },
      minioPid: minio.pid() ?? 0,
      registryDir,
    };
    project.provide('worldloopScale', scale);
    console.log(
      `[scale] ${id}: bridge ${hostIp}, hosts ${hosts.map((h) => `${h.netns}=${h.ip}`).join(' ')}, ` +
        `cluster ${temporalAddress}, MinIO ${minio.endpoint}; ready in ${Date.now() - t0} ms`,
    );
    return teardown;
  } catch (err) {
    await teardown();
    throw err;
  }
}
