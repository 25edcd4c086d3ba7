// A real MinIO server for tests (built once per machine by `bash scripts/go-tools.sh minio`; AGPL, a test
// tool we never ship). Each start gets its own loopback port and data folder, waits for real readiness
// (`/minio/health/ready`, not an open port), and can be restarted on the same port and data (fault tests).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/** MinIO ports for tests (17600–17639; scripts/cluster.sh defaults to 17650 and up). */
const PORT_RANGE = { first: 17600, last: 17639 };

export interface MinioEndpoint {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

export interface MinioServer extends MinioEndpoint {
  readonly port: number;
  readonly dataDir: string;
  pid(): number | undefined;
  /** Stops the server (SIGKILL when `hard`), keeping its data. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
}

/** Where go-tools.sh caches MinIO (WORLDLOOP_TOOLS_DIR or the per-machine default). */
export function minioBinary(): string {
  const tools = process.env.WORLDLOOP_TOOLS_DIR ?? join(homedir(), '.cache', 'worldloop', 'tools');
  return join(tools, 'bin', 'minio');
}

export function minioBuilt(): boolean {
  return existsSync(minioBinary());
}

async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function freePortInRange(): Promise<number> {
  // Start at a random place so concurrent lanes rarely probe the same port first.
  const span = PORT_RANGE.last - PORT_RANGE.first + 1;
  const offset = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = PORT_RANGE.first + ((offset + i) % span);
    if (await portFree(port)) return port;
  }
  throw new Error(`no free loopback port in ${PORT_RANGE.first}-${PORT_RANGE.last} for MinIO`);
}

async function waitReady(endpoint: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`MinIO exited with ${child.exitCode}; see ${logFile}`);
    try {
      const res = await fetch(`${endpoint}/minio/health/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`MinIO at ${endpoint} was not ready within ${timeoutMs} ms; see ${logFile}`);
}

export function s3ClientConfigFor(server: MinioEndpoint): S3ClientConfig {
  return {
    region: server.region,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

export async function createBucket(server: MinioEndpoint, bucket: string): Promise<void> {
  const client = new S3Client(s3ClientConfigFor(server));
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if ((err as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw err;
  } finally {
    client.destroy();
  }
}

export async function startMinio(
  options: { address?: string; readyTimeoutMs?: number; port?: number } = {},
): Promise<MinioServer> {
  const bin = minioBinary();
  if (!existsSync(bin)) throw new Error(`MinIO is not built here (${bin}); run \`bash scripts/go-tools.sh minio\``);
  const root = await mkdtemp(join(tmpdir(), 'worldloop-minio-'));
  const dataDir = join(root, 'data');
  await mkdir(dataDir);
  const port = options.port ?? (await freePortInRange());
  const host = options.address ?? '127.0.0.1';
  const endpoint = `http://${host}:${port}`;
  const creds = { accessKeyId: 'worldloop-test', secretAccessKey: `test-${Math.random().toString(36).slice(2)}` };
  const logFile = join(root, 'minio.log');
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const log = await open(logFile, 'a');
    child = spawn(
      bin,
      ['server', '--quiet', '--address', `${host}:${port}`, '--console-address', `${host}:0`, dataDir],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: root,
          MINIO_ROOT_USER: creds.accessKeyId,
          MINIO_ROOT_PASSWORD: creds.secretAccessKey,
          MINIO_BROWSER: 'off',
          MINIO_UPDATE: 'off',
        },
        stdio: ['ignore', log.fd, log.fd],
      },
    );
    await log.close();
    await waitReady(endpoint, child, logFile, options.readyTimeoutMs ?? 60_000);
  };

  const stop = async (hard = false): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(hard ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    endpoint,
    port,
    dataDir,
    region: 'us-east-1',
    ...creds,
    pid: () => child?.pid,
    stop,
    start,
    dispose: async () => {
      await stop(true);
      await rm(root, { recursive: true, force: true });
    },
  };
}
