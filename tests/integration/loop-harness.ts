// A real loop for integration tests: the running Temporal dev server, the real Docker engine and the
// loopback OCI registry, with a private state folder, a private task queue and a private registry folder
// whose pins come from a real build of the processors (so tests never depend on committed digests).
import { Client, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { REPO_ROOT, loadConfig, type Config } from '../../src/config';
import type { Envelope, RunRequest } from '../../src/contracts';
import { defaultWritePrefix } from '../../src/contracts/write-prefix';
import { buildAndPush } from '../../src/registry/build-push';
import { OciClient } from '../../src/registry/oci-client';
import { pinRegistry } from '../../src/registry/pin';
import { connectTemporal, type TemporalConnection } from '../../src/temporal';
import { startWorker, type RunningWorker } from '../../src/temporal/worker';
import { openWorld, type World } from '../../src/world';
import { runProcessor } from '../../workflows';
import { envelopeOf } from '../../src/cli/commands/run-actions';

export const FIXTURE_REGISTRY = join(REPO_ROOT, 'tests', 'fixtures', 'registry');

let preparedRegistry: Promise<string> | undefined;

/**
 * A registry folder holding the repository's entries plus the test fixtures, pinned to images built and
 * pushed to the loopback registry now — the Build & Pin lane in miniature (reproducible builds make the
 * second and later calls cheap: the base layers are cached and pushes of existing blobs are skipped).
 */
export function preparedRegistryDir(): Promise<string> {
  preparedRegistry ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wl-registry-'));
    await cp(join(REPO_ROOT, 'registry'), dir, { recursive: true });
    await cp(FIXTURE_REGISTRY, dir, { recursive: true });
    const client = new OciClient();
    await buildAndPush({ registryDir: dir, root: REPO_ROOT, client, refs: [], platforms: ['amd64', 'arm64'] });
    await pinRegistry({ registryDir: dir, client, profile: 'dev' });
    return dir;
  })();
  return preparedRegistry;
}

export interface LoopHarness {
  cfg: Config;
  temporal: TemporalConnection;
  client: Client;
  world: World;
  worker: RunningWorker | undefined;
  /** Environment for child processes (CLI, external workers) that must share this harness's setup. */
  env: NodeJS.ProcessEnv;
  start(request: Partial<RunRequest> & Pick<RunRequest, 'processor_ref' | 'inputs'>): Promise<{
    execution_id: string;
    handle: WorkflowHandleWithFirstExecutionRunId;
  }>;
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
    WORLDLOOP_LOG_LEVEL: 'warn',
    ...opts.overrides,
  };
  const cfg = loadConfig(env);
  const temporal = await connectTemporal(cfg);
  const client = new Client({ connection: temporal.connection, namespace: temporal.namespace });
  const worker = opts.embeddedWorker === false ? undefined : await startWorker(cfg, temporal);
  const world = openWorld(cfg);
  await world.ledger.createPlan('default', 10_000_000);

  const start: LoopHarness['start'] = async (partial) => {
    const execution_id = uuidv7();
    const request: RunRequest = {
      mode: 'mock',
      plan: 'default',
      adapter: 'local',
      write_prefix: defaultWritePrefix(partial.processor_ref.includes('@') ? partial.processor_ref : 'x/y@1'),
      ...partial,
    };
    const handle = await client.workflow.start(runProcessor, {
      taskQueue: cfg.temporal.taskQueue,
      workflowId: `run/${execution_id}`,
      args: [{ execution_id, request }],
    });
    return { execution_id, handle };
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
      return { execution_id, envelope: await envelopeOf(handle) };
    },
    async close() {
      await worker?.shutdown();
      await temporal.connection.close();
    },
  };
}
