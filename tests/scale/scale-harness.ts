// Workers on separate "hosts" and the checks every scale test makes. A worker is `worldloop worker` run
// inside one network namespace (`ip netns exec`), configured only by the environment a real deployment
// would set: TEMPORAL_ADDRESS and the S3 world on the bridge, its own state folder (scratch), its own
// metrics off. The checks: every run ended exactly once, one container per execution (Docker's create
// events), one receipt, budget charged once, the ledger and lease chains verify, nothing left reserved or
// leased.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { v7 as uuidv7 } from 'uuid';
import { inject } from 'vitest';
import { REPO_ROOT, loadConfig, type Config } from '../../src/config';
import type { Envelope, RunRequest } from '../../src/contracts';
import { determinismPath, defaultWritePrefix } from '../../src/contracts/write-prefix';
import { connectTemporal, type TemporalConnection } from '../../src/temporal';
import { runClient, runEnvelope, runHandle, startRun } from '../../src/temporal/client';
import { openWorld, type World } from '../../src/world';

export const scale = (): ReturnType<typeof inject<'worldloopScale'>> => inject('worldloopScale');

/** Where a process finds the cluster and the world: the lane's own unless a test brings its own. */
export interface Endpoints {
  temporalAddress?: string;
  s3?: ScaleS3;
}
type ScaleS3 = ReturnType<typeof scale>['s3'];

/** The environment of a worldloop process on the cluster with the world on S3. */
export function scaleEnv(stateDir: string, taskQueue: string, over: Endpoints = {}): NodeJS.ProcessEnv {
  const s = scale();
  const s3 = over.s3 ?? s.s3;
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: over.temporalAddress ?? s.temporalAddress,
    WORLDLOOP_WORLD_URL: `s3://${s3.bucket}/${taskQueue}`,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    WORLDLOOP_STATE_DIR: stateDir,
    WORLDLOOP_REGISTRY_DIR: s.registryDir,
    WORLDLOOP_TASK_QUEUE: taskQueue,
    WORLDLOOP_METRICS_ADDR: 'off',
    WORLDLOOP_LOG_LEVEL: 'warn',
    // Three workers share 2 cores here: a few containers each, so timeouts come from the faults, not overload.
    WORLDLOOP_WORKER_ACTIVITIES: '3',
  };
}

export interface NsWorker {
  readonly host: number;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

export async function startWorkerOnHost(host: number, taskQueue: string, over: Endpoints = {}): Promise<NsWorker> {
  const { netns } = scale().hosts[host]!;
  const stateDir = await mkdtemp(join(tmpdir(), `wl-${netns}-`));
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, 'bin/worldloop.js', 'worker'], {
    cwd: REPO_ROOT,
    env: scaleEnv(stateDir, taskQueue, over),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.resume();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { host, child, exited, kill: (signal) => child.kill(signal) };
}

/** The client side (the test process, on the host): Temporal client and the world, over the bridge. */
export interface ScaleClient {
  readonly cfg: Config;
  readonly temporal: TemporalConnection;
  readonly world: World;
  readonly taskQueue: string;
  start(request: Partial<RunRequest> & Pick<RunRequest, 'processor_ref' | 'inputs'>): Promise<{
    execution_id: string;
    result: Promise<Envelope>;
  }>;
  close(): Promise<void>;
}

export async function scaleClient(taskQueue = `wl-scale-${uuidv7()}`, over: Endpoints = {}): Promise<ScaleClient> {
  const cfg = loadConfig(scaleEnv(await mkdtemp(join(tmpdir(), 'wl-scale-client-')), taskQueue, over));
  const temporal = await connectTemporal(cfg);
  const client = runClient(temporal);
  const world = openWorld(cfg);
  return {
    cfg,
    temporal,
    world,
    taskQueue,
    async start(partial) {
      const request: RunRequest = {
        mode: 'mock',
        plan: 'default',
        adapter: 'local',
        write_prefix: defaultWritePrefix(partial.processor_ref),
        ...partial,
      };
      const { execution_id, handle } = await startRun(client, { taskQueue, request });
      return { execution_id, result: runEnvelope(handle) };
    },
    close: () => temporal.connection.close(),
  };
}

/** Counts Docker container creations per execution id while it runs (containers may be removed after). */
export async function watchContainerCreates(): Promise<{ counts: Map<string, number>; stop(): void }> {
  const docker = new Docker();
  const counts = new Map<string, number>();
  const stream = (await docker.getEvents({
    filters: { type: ['container'], event: ['create'], label: ['worldloop.execution_id'] },
  })) as NodeJS.ReadableStream & { destroy(): void };
  let buf = '';
  stream.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const id = (JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } }).Actor?.Attributes?.[
        'worldloop.execution_id'
      ];
      if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  });
  return { counts, stop: () => stream.destroy() };
}

export interface Tally {
  started: number;
  succeeded: number;
  failed: Record<string, number>;
  duplicates: number;
  lost: number;
  /** Runs whose Execute took more than one attempt (the fault hit them), from their workflow history. */
  retried: number;
}

/** The attempt Execute completed on (1 = never retried); 0 when it never ran. */
async function executeAttempt(c: ScaleClient, executionId: string): Promise<number> {
  const history = await runHandle(runClient(c.temporal), executionId).fetchHistory();
  const scheduled = new Set<string>();
  let attempt = 0;
  for (const event of history.events ?? []) {
    if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'execute')
      scheduled.add(String(event.eventId));
    const started = event.activityTaskStartedEventAttributes;
    if (started && scheduled.has(String(started.scheduledEventId))) attempt = Math.max(attempt, started.attempt ?? 1);
  }
  return attempt;
}

/**
 * The exactly-once checks over finished runs: each ended once (its envelope), each success has exactly one
 * container and one receipt, the plan and lease chains verify, and nothing is left reserved or leased.
 */
export async function checkExactlyOnce(
  c: ScaleClient,
  plan: string,
  runs: { execution_id: string; envelope: Envelope | undefined }[],
  creates: Map<string, number>,
): Promise<Tally> {
  const tally: Tally = { started: runs.length, succeeded: 0, failed: {}, duplicates: 0, lost: 0, retried: 0 };
  for (const r of runs) {
    if (!r.envelope) {
      tally.lost++;
      continue;
    }
    if ((await executeAttempt(c, r.execution_id)) > 1) tally.retried++;
    const containers = creates.get(r.execution_id) ?? 0;
    if (containers > 1) tally.duplicates++;
    if (r.envelope.status === 'success') {
      tally.succeeded++;
      if (containers !== 1) tally.duplicates++;
      const receipt = await c.world.world.stat(determinismPath(r.execution_id));
      if (!receipt) tally.lost++;
    } else {
      tally.failed[r.envelope.error.code] = (tally.failed[r.envelope.error.code] ?? 0) + 1;
    }
  }
  const verified = await c.world.ledger.verifyPlan(plan);
  if (!verified.ok) throw new Error(`plan ${plan} does not verify: ${verified.problems.join('; ')}`);
  const state = await c.world.ledger.getPlan(plan);
  if (state.reserved_micro !== 0) throw new Error(`plan ${plan} still holds ${state.reserved_micro} reserved`);
  const leases = await c.world.leases.verify();
  if (!leases.ok) throw new Error('the lease chain does not verify');
  const active = await c.world.leases.activeLeases();
  const ours = new Set(runs.map((r) => r.execution_id));
  const orphaned = active.filter((l) => ours.has(l.execution_id));
  if (orphaned.length > 0) throw new Error(`orphaned leases: ${orphaned.map((l) => l.execution_id).join(', ')}`);
  // Execute keeps an execution's container until its outcome is recorded, then removes it in the background
  // (ADR 0024): none may be left once those removals have had a moment.
  let leftover: Docker.ContainerInfo[] = [];
  for (let tries = 0; tries < 100; tries++) {
    const left = await new Docker().listContainers({ all: true, filters: { label: ['worldloop.execution_id'] } });
    leftover = left.filter((k) => ours.has(k.Labels['worldloop.execution_id'] ?? ''));
    if (leftover.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (leftover.length > 0) throw new Error(`containers left behind: ${leftover.map((k) => k.Names[0]).join(', ')}`);
  return tally;
}
