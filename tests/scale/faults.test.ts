// Faults with nothing lost (issue 12 part 5), on the cluster with the world on MinIO and three workers on
// separate network namespaces. Each test asserts: every run ended exactly once, one container per execution,
// one receipt per success, budget charged once, the plan and lease chains verify, nothing left reserved,
// leased or kept. Each test has its own workers (and task queue); the rows are printed for docs/scale-out.md.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import type { Envelope } from '../../src/contracts';
import { createBucket, startMinio, type MinioServer } from '../integration/minio-server';
import {
  checkExactlyOnce,
  scale,
  scaleClient,
  startWorkerOnHost,
  watchContainerCreates,
  type Endpoints,
  type NsWorker,
  type ScaleClient,
  type Tally,
} from './scale-harness';

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let workers: NsWorker[] = [];
let cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const w of workers) w.kill('SIGTERM');
  await Promise.all(workers.map((w) => Promise.race([w.exited, sleep(15_000)])));
  workers = [];
  for (const step of cleanups.reverse()) await step().catch(() => undefined);
  cleanups = [];
});

/** One client and three workers on a fresh task queue; `endpoints(host)` says what each worker dials. */
async function setUp(endpoints: (host: number) => Endpoints = () => ({})): Promise<ScaleClient> {
  const c = await scaleClient(undefined, endpoints(-1));
  cleanups.push(() => c.close());
  workers = await Promise.all([0, 1, 2].map((host) => startWorkerOnHost(host, c.taskQueue, endpoints(host))));
  return c;
}

interface Scenario {
  name: string;
  runs: number;
  inputs: (i: number) => Record<string, unknown>;
  /** The plan's budget, in runs of 100,000 µ (the fixture's reservation). */
  budgetRuns: number;
  /** The fault, started once every run is started; the runs' results are awaited alongside. */
  fault: (ids: string[]) => Promise<void>;
  withinMs: number;
}

/** Starts the runs, injects the fault, waits for every run to end and checks that each ended exactly once. */
async function runScenario(c: ScaleClient, s: Scenario): Promise<{ tally: Tally; plan: string; refusedRan: number }> {
  // Plan keys are at most 64 characters.
  const plan = `${s.name
    .replace(/[^a-z0-9]+/gi, '-')
    .toLowerCase()
    .slice(0, 40)}-${Date.now()}`;
  await c.world.ledger.createPlan(plan, s.budgetRuns * 100_000);
  const watch = await watchContainerCreates();
  const t0 = Date.now();
  const started = await Promise.all(
    Array.from({ length: s.runs }, (_, i) => c.start({ processor_ref: 'test/fixture@1', inputs: s.inputs(i), plan })),
  );
  const deadline = sleep(s.withinMs).then(() => undefined);
  const [runs] = await Promise.all([
    Promise.all(
      started.map(async (r) => ({
        execution_id: r.execution_id,
        envelope: (await Promise.race([r.result, deadline])) as Envelope | undefined,
      })),
    ),
    s.fault(started.map((r) => r.execution_id)),
  ]);
  watch.stop();
  const tally = await checkExactlyOnce(c, plan, runs, watch.counts);
  const failed = Object.entries(tally.failed).map(([code, n]) => `${n} ${code}`);
  console.log(
    `[fault] ${s.name}: started ${tally.started}, succeeded ${tally.succeeded}, failed ${failed.join(', ') || '0'}, ` +
      `duplicates ${tally.duplicates}, lost ${tally.lost}; Execute retried in ${tally.retried} ` +
      `(${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
  // A run the budget refused never started a container.
  const refused = runs.filter((r) => r.envelope?.status === 'error').map((r) => r.execution_id);
  return { tally, plan, refusedRan: refused.filter((id) => watch.counts.has(id)).length };
}

const sleeping = (tag: string, seconds: number) => (i: number) => ({
  behaviour: 'sleep',
  sleep_s: seconds,
  text: `${tag} ${i}`,
  cost_micro: 1_000,
});

function expectAllOnce(tally: Tally, runs: number): void {
  expect(tally).toMatchObject({ started: runs, succeeded: runs, duplicates: 0, lost: 0 });
  expect(tally.failed).toEqual({});
}

const cluster = (...args: string[]) =>
  run('bash', ['scripts/cluster.sh', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...scale().clusterEnv } });

/**
 * Resolves once a container of one of `ids` is in `status` (exited ones are kept until their outcome is
 * recorded in the world); with `workdirOf`, only one whose workdir is under that worker's state folder.
 */
async function firstContainer(ids: string[], status: 'exited' | 'running', workdirOf?: string): Promise<void> {
  const docker = new Docker();
  const wanted = new Set(ids);
  for (const until = Date.now() + 180_000; Date.now() < until;) {
    const found = await docker.listContainers({
      all: true,
      filters: { label: ['worldloop.execution_id'], status: [status] },
    });
    const ours = found.filter((k) => wanted.has(k.Labels['worldloop.execution_id'] ?? ''));
    if (ours.some((k) => !workdirOf || k.Mounts.some((m) => m.Source.includes(`/wl-${workdirOf}-`)))) return;
    await sleep(100);
  }
  throw new Error(`no container of this test reached ${status}${workdirOf ? ` on ${workdirOf}` : ''} in 180 s`);
}

describe('faults on the cluster, MinIO and three namespaced workers', () => {
  it('kill -9 of a worker mid-execute, twice: every run ends once, one container each', async () => {
    const c = await setUp();
    const { tally, plan } = await runScenario(c, {
      name: 'kill -9 of a worker mid-execute (x2)',
      runs: 9,
      inputs: sleeping('kill9', 4),
      budgetRuns: 100,
      withinMs: 480_000,
      fault: async () => {
        for (const host of [0, 1]) {
          await sleep(6_000);
          workers[host]!.kill('SIGKILL');
          await workers[host]!.exited;
          workers[host] = await startWorkerOnHost(host, c.taskQueue);
        }
      },
    });
    expectAllOnce(tally, 9);
    expect((await c.world.ledger.getPlan(plan)).spent_micro).toBe(9 * 1_000);
  });

  it("a worker's namespace cut from the network mid-run (link down 25 s), then restored", async () => {
    const c = await setUp();
    const { tally, plan } = await runScenario(c, {
      name: 'worker namespace link down 25 s mid-run',
      runs: 9,
      inputs: sleeping('cut', 10),
      budgetRuns: 100,
      withinMs: 480_000,
      fault: async (ids) => {
        // Cut once the third worker runs a container, so the cut hits an Execute in flight.
        await firstContainer(ids, 'running', scale().hosts[2]!.netns);
        // netns.sh numbers the hosts from 1; host index 2 is the third worker.
        await run('bash', ['scripts/netns.sh', 'cut', scale().id, '3'], { cwd: REPO_ROOT });
        await sleep(25_000);
        await run('bash', ['scripts/netns.sh', 'mend', scale().id, '3'], { cwd: REPO_ROOT });
      },
    });
    expectAllOnce(tally, 9);
    // The cut worker's Execute could neither heartbeat nor record: another worker's retry took it over.
    expect(tally.retried).toBeGreaterThanOrEqual(1);
    expect((await c.world.ledger.getPlan(plan)).spent_micro).toBe(9 * 1_000);
  });

  it('kill -9 of one history service and of the frontend two workers use, mid-run; both revived later', async () => {
    // Host 0 and the client dial the first frontend, hosts 1 and 2 the second: killing it cuts two workers
    // off Temporal while history-2's shards move to history-1.
    const c = await setUp((host) => (host >= 1 ? { temporalAddress: scale().secondFrontend } : {}));
    const { tally, plan } = await runScenario(c, {
      name: 'kill history-2 and frontend-2 mid-run (revived after 30 s)',
      runs: 9,
      inputs: sleeping('cluster', 6),
      budgetRuns: 100,
      withinMs: 600_000,
      fault: async () => {
        await sleep(5_000);
        await cluster('kill', 'history-2');
        await cluster('kill', 'frontend-2');
        await sleep(30_000);
        await cluster('revive', 'history-2');
        await cluster('revive', 'frontend-2');
      },
    });
    expectAllOnce(tally, 9);
    expect((await c.world.ledger.getPlan(plan)).spent_micro).toBe(9 * 1_000);
  });

  it('MinIO killed while outputs are being staged and settled, restarted 8 s later', async () => {
    const s = scale();
    const minio: MinioServer = await startMinio({ address: s.hostIp, port: s.portBase + 31 });
    cleanups.push(() => minio.dispose());
    await createBucket(minio, 'worldloop-restart');
    const s3 = { ...s.s3, endpoint: minio.endpoint, accessKeyId: minio.accessKeyId, bucket: 'worldloop-restart' };
    const c = await setUp(() => ({ s3: { ...s3, secretAccessKey: minio.secretAccessKey } }));
    const { tally, plan } = await runScenario(c, {
      name: 'MinIO restarted mid-settle (down 8 s)',
      runs: 12,
      inputs: sleeping('minio', 2),
      budgetRuns: 100,
      withinMs: 600_000,
      fault: async (ids) => {
        await firstContainer(ids, 'exited');
        await minio.stop(true);
        await sleep(8_000);
        await minio.start();
      },
    });
    expectAllOnce(tally, 12);
    expect((await c.world.ledger.getPlan(plan)).spent_micro).toBe(12 * 1_000);
  });

  it('200 runs across the three workers against a plan with budget for exactly 100', async () => {
    const c = await setUp();
    const { tally, plan, refusedRan } = await runScenario(c, {
      name: '200 runs, budget for 100',
      runs: 200,
      inputs: (i) => ({ behaviour: 'ok', text: `b200 ${i}`, cost_micro: 100_000 }),
      budgetRuns: 100,
      withinMs: 1_500_000,
      fault: () => Promise.resolve(),
    });
    expect(tally).toMatchObject({ started: 200, succeeded: 100, duplicates: 0, lost: 0 });
    expect(tally.failed).toEqual({ ERR_BUDGET_EXCEEDED: 100 });
    expect(await c.world.ledger.getPlan(plan)).toMatchObject({ spent_micro: 100 * 100_000, available_micro: 0 });
    expect(refusedRan).toBe(0);
  });
});
