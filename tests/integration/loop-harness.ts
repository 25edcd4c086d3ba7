// A real loop for integration tests: the running Temporal dev server, the real Docker engine and the
// loopback OCI registry, with a private state folder, a private task queue and a private registry folder
// whose pins come from a real build of the processors (so tests never depend on committed digests).
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { REPO_ROOT, loadConfig, type Config } from '../../src/config';
import type { Envelope, RunRequest } from '../../src/contracts';
import { defaultWritePrefix } from '../../src/contracts/write-prefix';
import { blake3Hex } from '../../src/hashing';
import { buildAndPush } from '../../src/build/build-push';
import { OciClient } from '../../src/oci/client';
import { pinRegistry } from '../../src/registry/pin';
import { connectTemporal, type TemporalConnection } from '../../src/temporal';
import { backgroundDiscardsFinished } from '../../activities';
import { startWorker, workflowBundle, type RunningWorker } from '../../src/temporal/worker';
import { connectWorkerNativeConnection } from '../../src/temporal/connection';
import type { Logger } from '../../src/log';
import { openWorld, type World } from '../../src/world';
import { runClient, runEnvelope, startRun, type StartedRun } from '../../src/temporal/client';

// Workers log expected failures (the error-path tests) at WARN; keep the test output for real problems.
try {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
} catch {
  // already installed in this process
}

export const FIXTURE_REGISTRY = join(REPO_ROOT, 'tests', 'fixtures', 'registry');

let preparedRegistry: Promise<string> | undefined;

/**
 * A registry folder holding the repository's entries plus the test fixtures, pinned to images built and
 * pushed to the loopback registry now — the Build & Pin lane in miniature (reproducible builds make the
 * second and later calls cheap: the base layers are cached and pushes of existing blobs are skipped).
 */
export function preparedRegistryDir(): Promise<string> {
  preparedRegistry ??= (async () => {
    // Test files run in separate processes; the pinned folder is shared between them (and between runs)
    // under a name derived from every source that goes into the images, and only while the loopback
    // registry still serves the pinned index.
    const key = await sourcesDigest([
      'registry',
      'processors',
      'src',
      'tests/fixtures/registry',
      'tests/fixtures/processors',
    ]);
    const dir = join(tmpdir(), `wl-registry-${key.slice(0, 16)}`);
    const client = new OciClient();
    if (existsSync(join(dir, '.pinned')) && (await stillPublished(dir, client))) return dir;
    const work = await mkdtemp(join(tmpdir(), 'wl-registry-build-'));
    await cp(join(REPO_ROOT, 'registry'), work, { recursive: true });
    await cp(FIXTURE_REGISTRY, work, { recursive: true });
    await buildAndPush({ registryDir: work, root: REPO_ROOT, client, refs: [], platforms: ['amd64', 'arm64'] });
    await pinRegistry({ registryDir: work, client, profile: 'dev' });
    await writeFile(join(work, '.pinned'), new Date().toISOString());
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir).catch(async () => {
      // Another process published the same folder first; theirs is equivalent.
      await rm(work, { recursive: true, force: true });
    });
    return dir;
  })();
  return preparedRegistry;
}

async function sourcesDigest(roots: string[]): Promise<string> {
  const parts: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const abs = join(REPO_ROOT, rel);
    const entries = await readdir(abs, { withFileTypes: true });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(child);
      else if (e.isFile()) parts.push(child, blake3Hex(await readFile(join(REPO_ROOT, child))));
    }
  };
  for (const r of roots) await walk(r);
  return blake3Hex(parts.join('\n'));
}

async function stillPublished(dir: string, client: OciClient): Promise<boolean> {
  try {
    const reports = await pinRegistry({ registryDir: dir, client, profile: 'dev', check: true });
    return reports.every((r) => r.findings.every((f) => f.status === 'ok'));
  } catch {
    return false;
  }
}

export interface LoopHarness {
  cfg: Config;
  temporal: TemporalConnection;
  client: Client;
  world: World;
  worker: RunningWorker | undefined;
  /** Environment for child processes (CLI, external workers) that must share this harness's setup. */
  env: NodeJS.ProcessEnv;
  start(request: Partial<RunRequest> & Pick<RunRequest, 'processor_ref' | 'inputs'>): Promise<StartedRun>;
  run(
    request: Partial<RunRequest> & Pick<RunRequest, 'processor_ref' | 'inputs'>,
  ): Promise<{ execution_id: string; envelope: Envelope }>;
  close(): Promise<void>;
}

export interface LoopServices {
  temporalAddress: string;
  uiUrl: string;
}

export async function startLoopHarness(
  services: LoopServices,
  opts: { embeddedWorker?: boolean; overrides?: NodeJS.ProcessEnv } = {},
): Promise<LoopHarness> {
  const integration = services;
  const registryDir = await preparedRegistryDir();
  const stateDir = await mkdtemp(join(tmpdir(), 'wl-state-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WORLDLOOP_STATE_DIR: stateDir,
    WORLDLOOP_REGISTRY_DIR: registryDir,
    TEMPORAL_ADDRESS: integration.temporalAddress,
    TEMPORAL_UI_URL: integration.uiUrl,
    WORLDLOOP_TASK_QUEUE: `wl-test-${uuidv7()}`,
    WORLDLOOP_LOG_LEVEL: 'error',
    ...opts.overrides,
  };
  const cfg = loadConfig(env);
  const temporal = await connectTemporal(cfg);
  const client = runClient(temporal);
  const worker = opts.embeddedWorker === false ? undefined : await startWorker(cfg, temporal);
  const world = openWorld(cfg);
  await world.ledger.createPlan('default', 10_000_000);

  const start: LoopHarness['start'] = async (partial) => {
    const request: RunRequest = {
      mode: 'mock',
      plan: 'default',
      adapter: 'local',
      write_prefix: defaultWritePrefix(partial.processor_ref.includes('@') ? partial.processor_ref : 'x/y@1'),
      ...partial,
    };
    return startRun(client, { taskQueue: cfg.temporal.taskQueue, request });
  };

  return {
    cfg,
    temporal,
    client,
    world,
    worker,
    env,
    start,
    async run(partial) {
      const { execution_id, handle } = await start(partial);
      return { execution_id, envelope: await runEnvelope(handle) };
    },
    async close() {
      await worker?.shutdown();
      await temporal.connection.close();
    },
  };
}

/**
 * A worker on the harness's task queue serving the activities a test hands it (the real ones, some wrapped to hold
 * or fail at a chosen point), for a harness started with `embeddedWorker: false`.
 */
export async function startActivitiesWorker(
  h: LoopHarness,
  activities: object,
  logger: Logger,
): Promise<{ shutdown(): Promise<void> }> {
  const native = await connectWorkerNativeConnection(h.cfg);
  const worker = await Worker.create({
    connection: native.connection,
    namespace: h.temporal.namespace,
    taskQueue: h.cfg.temporal.taskQueue,
    workflowBundle: await workflowBundle(h.cfg, logger),
    activities,
  });
  const running = worker.run();
  return {
    async shutdown() {
      worker.shutdown();
      await running;
      await backgroundDiscardsFinished();
      await native.connection.close();
    },
  };
}
