// The worker bootstrap: the only place the activity dependencies (world store, ledger, Docker adapter,
// secret resolver, logger, Temporal client) are built. `worldloop worker` runs it as a long-lived
// process; `worldloop run` embeds one in-process when nobody polls the task queue.
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { Runtime, Worker } from '@temporalio/worker';
import { join } from 'node:path';
import {
  backgroundDiscardsFinished,
  createActivities,
  startWorkdirSweeper,
  sweepContainers,
  type ActivityDeps,
} from '../../activities';
import { createDriftActivities } from '../../activities/drift';
import { REPO_ROOT, type Config } from '../config';
import { createDockerAdapter } from '../adapters';
import { connectDocker } from '../adapters/docker-engine';
import { createModalAdapterFromConfig, type AppOwner, type ModalAdapterSetup } from '../adapters/modal';
import { WorldloopError } from '../contracts/errors';
import { userInfo } from 'node:os';
import type { Mode } from '../contracts';
import { runWorkflowId } from '../contracts/workflow-id';
import { createLogger, defaultRedactor, type Logger } from '../log';
import {
  RunMetrics,
  parseMetricsAddress,
  startMetricsServer,
  type MetricsAddress,
  type MetricsServer,
} from '../metrics';
import { workerSigningKey } from '../provenance';
import { getEntry, hostPlatform, loadRegistry } from '../registry';
import { ociClientFromConfig } from '../oci/client';
import { createSecretResolver, loadAllowList } from '../secrets';
import { openWorld } from '../world';
import { connectWorkerNativeConnection, type TemporalConnection } from './connection';
import { exactNumbersCodec } from './exact-numbers-codec';
import { WORLDLOOP_VERSION } from '../version';
import { workflowBundle } from './workflow-bundle';

export { WORLDLOOP_VERSION, workflowBundle };

/** Where the workdirs of this worker's runs live (scratch: removed once a run has an outcome). */
const runsDir = (cfg: Config): string => join(cfg.stateDir, 'runs');
/** Whose Modal apps this worker uses: the CI lane's names in CI, else one person's on one branch. */
export function modalAppOwner(cfg: Config): AppOwner {
  if (cfg.ci) return { ci: true };
  return { ci: false, user: cfg.modal.appUser ?? userInfo().username, branch: cfg.modal.appBranch ?? 'local' };
}

/**
 * The worker's Modal adapter (issue 8), when Modal is configured: credentials resolve offline (environment
 * or profile file). Without them the worker runs no `modal` runs, and Admit refuses them with a code.
 */
export function modalAdapterFor(cfg: Config, logger: Logger): ModalAdapterSetup | undefined {
  try {
    return createModalAdapterFromConfig(cfg.modal, {
      appOwner: modalAppOwner(cfg),
      ...(cfg.modal.pullSecret !== undefined ? { pullSecret: cfg.modal.pullSecret } : {}),
      redact: (s) => defaultRedactor.redactString(s),
      logger,
    });
  } catch (err) {
    if (!(err instanceof WorldloopError)) throw err;
    logger.info({ code: err.code }, 'Modal is not configured on this worker; --adapter modal runs are refused');
    return undefined;
  }
}

/** Builds every activity dependency once. */
export async function buildActivityDeps(
  cfg: Config,
  client: Client,
  logger: Logger,
  metrics?: RunMetrics,
  modal?: ModalAdapterSetup,
): Promise<ActivityDeps> {
  const registry = await loadRegistry(cfg.registryDir, { root: REPO_ROOT });
  const { world, ledger, leases } = openWorld(cfg);
  const docker = connectDocker(cfg);
  const allow = loadAllowList(cfg.secretsAllowFile);
  const resolvers = new Map<Mode, ReturnType<typeof createSecretResolver>>();
  const secretsFor = (mode: Mode) => {
    let resolver = resolvers.get(mode);
    if (!resolver) {
      resolver = createSecretResolver({
        mode,
        allow,
        env: cfg.secretEnv,
        secretsDir: cfg.secretsDir,
        redactor: defaultRedactor,
      });
      resolvers.set(mode, resolver);
    }
    return resolver;
  };
  // The worker's own key, not a processor secret: read through the resolver by name when one is configured.
  const signingKey = await workerSigningKey({
    stateDir: cfg.stateDir,
    secretName: cfg.signingKeySecret,
    resolveSecret: (name) => secretsFor('real').resolve(name),
  });
  return {
    ci: cfg.ci,
    version: WORLDLOOP_VERSION,
    platform: hostPlatform(),
    getEntry: (ref) => getEntry(registry, ref),
    world,
    plans: ledger,
    leases,
    adapters: {
      local: createDockerAdapter({
        docker,
        redact: (s) => defaultRedactor.redactString(s),
        logger,
        ...(cfg.egressNetwork ? { egressNetwork: cfg.egressNetwork } : {}),
      }),
      ...(modal ? { modal: modal.adapter } : {}),
    },
    secretsFor,
    signer: signingKey.signer,
    processorConfigEnv: cfg.processorConfigEnv,
    workdirFor: (executionId) => join(runsDir(cfg), executionId),
    flights: {
      async isRunning(executionId) {
        try {
          const description = await client.workflow.getHandle(runWorkflowId(executionId)).describe();
          return description.status.name === 'RUNNING';
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        }
      },
    },
    logger,
    metrics,
  };
}

/**
 * The Temporal SDK's own worker metrics (task slots, poll latencies, sticky cache…) are served by its
 * Rust core on a second endpoint, the port after ours: the core owns that listener and prom-client cannot
 * merge it. The core's telemetry is fixed when its runtime is created, so this only works when the worker
 * is the first thing in the process to use the native runtime; otherwise we say so and go on without it.
 */
function installSdkMetrics(at: MetricsAddress, logger: Logger): string | undefined {
  if (at.port === 0 || at.port === 65_535) return undefined;
  const host = at.host.includes(':') ? `[${at.host}]` : at.host;
  const bindAddress = `${host}:${at.port + 1}`;
  try {
    Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress } } } });
    return bindAddress;
  } catch (err) {
    logger.warn(
      { event: 'worker.metrics', err: err instanceof Error ? err.message : String(err) },
      'Temporal SDK metrics are not served: the SDK runtime was created before the worker',
    );
    return undefined;
  }
}

/** Starts the worker's metrics endpoint; a taken port costs the metrics, never the worker. */
async function serveMetrics(cfg: Config, logger: Logger): Promise<RunningWorker['metrics']> {
  const at = parseMetricsAddress(cfg.metricsAddr);
  if (!at) return undefined;
  const metrics = new RunMetrics();
  let server: MetricsServer;
  try {
    server = await startMetricsServer(metrics, at);
  } catch (err) {
    logger.warn(
      { event: 'worker.metrics', address: cfg.metricsAddr, err: err instanceof Error ? err.message : String(err) },
      'metrics endpoint not started (set WORLDLOOP_METRICS_ADDR to a free host:port, or off)',
    );
    return undefined;
  }
  const sdkAddress = installSdkMetrics(server.address, logger);
  logger.info(
    { event: 'worker.metrics', address: `${server.address.host}:${server.address.port}`, sdk_address: sdkAddress },
    'serving Prometheus metrics at /metrics',
  );
  return { metrics, server, sdkAddress };
}

export interface RunningWorker {
  worker: Worker;
  /**
   * A client on the worker's own native connection: a run it starts on this task queue may be handed to this
   * worker in the start response (eager workflow start) instead of going through a task queue poll.
   */
  client: Client;
  /** The Prometheus endpoint(s), when metrics are on and the port was free. */
  metrics?: { metrics: RunMetrics; server: MetricsServer; sdkAddress: string | undefined };
  /** Resolves when the worker has stopped. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

/** Creates and starts a worker on the worldloop task queue. */
export async function startWorker(
  cfg: Config,
  temporal: TemporalConnection,
  opts: { logger?: Logger; identity?: string } = {},
): Promise<RunningWorker> {
  const logger = opts.logger ?? createLogger({ level: cfg.logLevel, context: { version: WORLDLOOP_VERSION } });
  const client = new Client({ connection: temporal.connection, namespace: temporal.namespace });
  // Before the native connection: the SDK's metrics can only be configured before its runtime exists.
  const served = await serveMetrics(cfg, logger);
  let deps: ActivityDeps, bundle: { code: string }, native: Awaited<ReturnType<typeof connectWorkerNativeConnection>>;
  let worker: Worker;
  const modal = modalAdapterFor(cfg, logger);
  try {
    [deps, bundle, native] = await Promise.all([
      buildActivityDeps(cfg, client, logger, served?.metrics, modal),
      workflowBundle(cfg, logger),
      connectWorkerNativeConnection(cfg),
    ]);
    worker = await Worker.create({
      connection: native.connection,
      namespace: temporal.namespace,
      taskQueue: cfg.temporal.taskQueue,
      workflowBundle: bundle,
      // lineage (ADR 0010): start payloads with numbers a double cannot hold become ERR_INPUTS, not rounded.
      dataConverter: { payloadCodecs: [exactNumbersCodec] },
      // The run loop's phases and the drift audit's three steps share the one task queue.
      activities: {
        ...createActivities(deps),
        ...createDriftActivities({
          client: ociClientFromConfig(cfg),
          registryDir: cfg.registryDir,
          deploymentsDir: join(REPO_ROOT, 'deployments'),
        }),
      },
      identity: opts.identity ?? `worldloop-worker@${process.pid}`,
      // Docker runs are I/O-bound waits; a handful in parallel keeps a small machine busy without thrashing
      // (WORLDLOOP_WORKER_ACTIVITIES, default 32).
      maxConcurrentActivityTaskExecutions: cfg.temporal.maxActivities,
    });
  } catch (err) {
    modal?.handle.client.close();
    await served?.server.close();
    throw err;
  }
  const done = worker.run();
  // Workdirs a crashed worker left behind: removed once their run's workflow is closed (issue 12 part 3).
  // … and the stopped containers of recorded executions a crash left before their removal (ADR 0024).
  const sweeper = startWorkdirSweeper({
    runsDir: runsDir(cfg),
    isRunning: deps.flights.isRunning,
    logger,
    sweepContainers: () => sweepContainers(deps),
  });
  return {
    worker,
    client: new Client({ connection: native.connection, namespace: temporal.namespace }),
    metrics: served,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
      // The last runs' containers go before this process may exit (ADR 0024).
      await backgroundDiscardsFinished();
      await sweeper.stop();
      await native.connection.close();
      modal?.handle.client.close();
      await served?.server.close();
    },
  };
}
