// Throughput (issue 12 part 6): runs per minute with 1, 2 and 3 namespaced workers on the cluster with the
// world on MinIO, against the embedded default (dev server, local disk, one worker), measured in one test
// run on this machine. Figures are printed for docs/benchmarks.md; the assertions only check that every
// run succeeded once (a wall-clock bound on a shared machine would be noise).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, loadConfig } from '../../src/config';
import { defaultWritePrefix } from '../../src/contracts/write-prefix';
import { connectTemporal } from '../../src/temporal';
import { runClient, runEnvelope, startRun } from '../../src/temporal/client';
import { openWorld } from '../../src/world';
import { scale, scaleClient, startWorkerOnHost, watchContainerCreates, type NsWorker } from './scale-harness';

const RUNS = 12;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const figures: string[] = [];

async function burst(
  start: (i: number) => Promise<{ execution_id: string; result: Promise<{ status: string }> }>,
): Promise<{ perMinute: number; ok: number; ids: string[] }> {
  const t0 = Date.now();
  const started = await Promise.all(Array.from({ length: RUNS }, (_, i) => start(i)));
  const envelopes = await Promise.all(started.map((s) => s.result));
  const seconds = (Date.now() - t0) / 1000;
  const ok = envelopes.filter((e) => e.status === 'success').length;
  return { perMinute: (RUNS / seconds) * 60, ok, ids: started.map((s) => s.execution_id) };
}

async function stopAll(workers: NsWorker[]): Promise<void> {
  for (const w of workers) w.kill('SIGTERM');
  await Promise.all(workers.map((w) => Promise.race([w.exited, sleep(15_000)])));
}

describe('throughput', () => {
  it.each([1, 2, 3])('%i worker(s) on the cluster with the world on MinIO', async (n) => {
    const c = await scaleClient();
    const workers = await Promise.all(Array.from({ length: n }, (_, host) => startWorkerOnHost(host, c.taskQueue)));
    try {
      await c.world.ledger.createPlan('default', 100_000_000); // room for every run in flight (100,000 reserved each)
      // One warm-up run so worker start-up (workflow bundle) is not counted.
      await (
        await c.start({ processor_ref: 'test/fixture@1', inputs: { behaviour: 'ok', text: 'warm' } })
      ).result;
      const watch = await watchContainerCreates();
      const { perMinute, ok, ids } = await burst((i) =>
        c.start({ processor_ref: 'test/fixture@1', inputs: { behaviour: 'ok', text: `t${n}-${i}-${uuidv7()}` } }),
      );
      watch.stop();
      figures.push(`cluster + MinIO, ${n} worker(s): ${perMinute.toFixed(1)} runs/min (${RUNS} runs)`);
      console.log(`[throughput] ${figures.at(-1)}`);
      expect(ok).toBe(RUNS);
      // Only this burst's executions: the engine is shared with other lanes' containers.
      expect(ids.map((id) => watch.counts.get(id) ?? 0)).toEqual(ids.map(() => 1));
    } finally {
      await stopAll(workers);
      await c.close();
    }
  });

  it('the embedded default: dev server, local disk, one worker', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'wl-embedded-'));
    const taskQueue = `wl-embedded-${uuidv7()}`;
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      WORLDLOOP_STATE_DIR: stateDir,
      WORLDLOOP_REGISTRY_DIR: scale().registryDir,
      WORLDLOOP_TASK_QUEUE: taskQueue,
      WORLDLOOP_TEMPORAL_PORT: String(scale().portBase + 20),
      WORLDLOOP_UI_PORT: String(scale().portBase + 21),
      WORLDLOOP_METRICS_ADDR: 'off',
      WORLDLOOP_LOG_LEVEL: 'warn',
    };
    const child = spawn(process.execPath, ['bin/worldloop.js', 'worker'], { cwd: REPO_ROOT, env, stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    const cfg = loadConfig(env);
    try {
      const temporal = await (async () => {
        for (let i = 0; ; i++) {
          try {
            return await connectTemporal(cfg);
          } catch (err) {
            if (i > 60) throw err;
            await sleep(2_000);
          }
        }
      })();
      const client = runClient(temporal);
      const world = openWorld(cfg);
      await world.ledger.createPlan('default', 100_000_000);
      const start = async (text: string) => {
        const request = {
          processor_ref: 'test/fixture@1',
          inputs: { behaviour: 'ok', text },
          mode: 'mock' as const,
          plan: 'default',
          adapter: 'local' as const,
          write_prefix: defaultWritePrefix('test/fixture@1'),
        };
        const { execution_id, handle } = await startRun(client, { taskQueue, request });
        return { execution_id, result: runEnvelope(handle) };
      };
      await (
        await start('warm')
      ).result;
      const { perMinute, ok } = await burst((i) => start(`embedded-${i}-${uuidv7()}`));
      figures.push(`embedded default, 1 worker: ${perMinute.toFixed(1)} runs/min (${RUNS} runs)`);
      console.log(`[throughput] ${figures.at(-1)}`);
      expect(ok).toBe(RUNS);
      await temporal.connection.close();
    } finally {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      // The dev server this worker started keeps running; stop it by its state folder's pid file.
      spawn(process.execPath, ['bin/worldloop.js', 'server', 'stop'], { cwd: REPO_ROOT, env, stdio: 'ignore' });
    }
  });
});
