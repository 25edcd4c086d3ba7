// Faults with nothing lost (issue 12 part 5), on the cluster with the world on MinIO and three workers on
// separate network namespaces. Each test asserts: every run ended exactly once, one container per execution,
// one receipt per success, budget charged once, the plan and lease chains verify, nothing left reserved or
// leased. The figures are printed for docs/benchmarks.md.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/contracts';
import {
  checkExactlyOnce,
  scaleClient,
  startWorkerOnHost,
  watchContainerCreates,
  type NsWorker,
  type ScaleClient,
  type Tally,
} from './scale-harness';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let c: ScaleClient;
let workers: NsWorker[] = [];

async function startWorkers(): Promise<void> {
  workers = await Promise.all([0, 1, 2].map((host) => startWorkerOnHost(host, c.taskQueue)));
}

beforeAll(async () => {
  c = await scaleClient();
  await startWorkers();
});
afterAll(async () => {
  for (const w of workers) w.kill('SIGTERM');
  await Promise.all(workers.map((w) => Promise.race([w.exited, sleep(15_000)])));
  await c.close();
});

async function settleAll(
  started: { execution_id: string; result: Promise<Envelope> }[],
  withinMs: number,
): Promise<{ execution_id: string; envelope: Envelope | undefined }[]> {
  const deadline = sleep(withinMs).then(() => undefined);
  return Promise.all(
    started.map(async (s) => ({ execution_id: s.execution_id, envelope: await Promise.race([s.result, deadline]) })),
  );
}

function report(name: string, t: Tally, ms: number): void {
  const failed =
    Object.entries(t.failed)
      .map(([code, n]) => `${n} ${code}`)
      .join(', ') || '0';
  console.log(
    `[fault] ${name}: started ${t.started}, succeeded ${t.succeeded}, failed ${failed}, duplicates ${t.duplicates}, lost ${t.lost} (${(ms / 1000).toFixed(1)} s)`,
  );
}

describe('faults on the cluster, MinIO and three namespaced workers', () => {
  it('kill -9 of a worker mid-execute, twice: every run ends once, one container each', async () => {
    const plan = `kill9-${Date.now()}`;
    await c.world.ledger.createPlan(plan, 100 * 100_000);
    const watch = await watchContainerCreates();
    const t0 = Date.now();
    const started = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        c.start({
          processor_ref: 'test/fixture@1',
          inputs: { behaviour: 'sleep', sleep_s: 4, text: `kill9 ${i}`, cost_micro: 1_000 },
          plan,
        }),
      ),
    );
    for (const host of [0, 1]) {
      await sleep(6_000);
      workers[host]!.kill('SIGKILL');
      await workers[host]!.exited;
      workers[host] = await startWorkerOnHost(host, c.taskQueue);
    }
    const runs = await settleAll(started, 480_000);
    watch.stop();
    const tally = await checkExactlyOnce(c, plan, runs, watch.counts);
    report('kill -9 of a worker mid-execute (x2)', tally, Date.now() - t0);
    expect(tally).toMatchObject({ started: 9, succeeded: 9, duplicates: 0, lost: 0 });
    expect((await c.world.ledger.getPlan(plan)).spent_micro).toBe(9 * 1_000);
  });

  it('200 runs across the three workers against a plan with budget for exactly 100', async () => {
    const plan = `b200-${Date.now()}`;
    await c.world.ledger.createPlan(plan, 100 * 100_000);
    const watch = await watchContainerCreates();
    const t0 = Date.now();
    const started = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        c.start({
          processor_ref: 'test/fixture@1',
          inputs: { behaviour: 'ok', text: `b200 ${i}`, cost_micro: 100_000 },
          plan,
        }),
      ),
    );
    const runs = await settleAll(started, 1_500_000);
    watch.stop();
    const tally = await checkExactlyOnce(c, plan, runs, watch.counts);
    report('200 runs, budget for 100', tally, Date.now() - t0);
    expect(tally).toMatchObject({ started: 200, succeeded: 100, duplicates: 0, lost: 0 });
    expect(tally.failed).toEqual({ ERR_BUDGET_EXCEEDED: 100 });
    expect(await c.world.ledger.getPlan(plan)).toMatchObject({ spent_micro: 100 * 100_000, available_micro: 0 });
    // A refused run never started a container.
    const refused = runs.filter((r) => r.envelope?.status === 'error').map((r) => r.execution_id);
    expect(refused.filter((id) => watch.counts.has(id))).toEqual([]);
  });
});
