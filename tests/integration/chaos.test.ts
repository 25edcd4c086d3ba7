// Chaos: kill -9 the worker while its container runs; stop the Temporal server for longer than the heartbeat
// timeout. A new worker must finish the run exactly once —
// one container (adopted by name, not started again), one receipt, the budget reserved and charged once.
import Dockerode from 'dockerode';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS } from '../../src/adapters/docker/index';
import { REPO_ROOT, loadConfig, type Config } from '../../src/config';
import { getEntry, loadRegistry } from '../../src/registry';
import { ReceiptSchema } from '../../src/contracts';
import { determinismPath } from '../../src/contracts/write-prefix';
import { runEnvelope as envelopeOf } from '../../src/temporal/client';
import { ensureDevServer, stopDevServer } from '../../src/temporal/dev-server';
import { startOwnDockerd, type OwnDockerd } from './chaos-own-dockerd';
import { integrationEnv } from './env';
import { freePorts } from './free-port';
import { startLoopHarness, type LoopHarness } from './loop-harness';

const docker = new Dockerode();
let h: LoopHarness;
const children: ChildProcess[] = [];

/** A worker process; its log goes to a file in its state folder (a pipe nobody reads would block it). */
function startWorkerProcess(env: NodeJS.ProcessEnv): ChildProcess {
  const log = openSync(join(env.WORLDLOOP_STATE_DIR ?? tmpdir(), `worker-${children.length}.log`), 'a');
  const child = spawn('node', ['bin/worldloop.js', 'worker'], { cwd: REPO_ROOT, env, stdio: ['ignore', log, log] });
  closeSync(log);
  children.push(child);
  return child;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  h = await startLoopHarness(integrationEnv(), { embeddedWorker: false });
}, 900_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await h?.close();
});

it('kill -9 of the worker mid-execute: a new worker adopts the container and settles exactly once', async () => {
  const events: string[] = [];
  const first = startWorkerProcess(h.env);
  const { execution_id, handle } = await h.start({
    processor_ref: 'test/fixture@1',
    inputs: { behaviour: 'sleep', sleep_s: 15, text: 'survivor' },
  });
  const name = `wl-${execution_id}`;
  const stream = await docker.getEvents({ filters: { container: [name], event: ['create', 'start'] } });
  stream.on('data', (chunk: Buffer) => events.push(...chunk.toString().trim().split('\n')));

  await waitFor('the container to run', async () => {
    const [c] = await docker.listContainers({ filters: { name: [name] } });
    return c?.State === 'running' ? c : undefined;
  });
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  startWorkerProcess(h.env);

  const envelope = await envelopeOf(handle);
  (stream as unknown as { destroy(): void }).destroy();
  expect(envelope.status, JSON.stringify(envelope)).toBe('success');

  const creates = events.map((e) => JSON.parse(e) as { Action: string }).filter((e) => e.Action === 'create');
  expect(creates.length).toBe(1);
  const receipt = ReceiptSchema.parse(
    JSON.parse(new TextDecoder().decode(await h.world.world.readBytes(determinismPath(execution_id)))),
  );
  expect(receipt.execution_id).toBe(execution_id);
  const plan = await h.world.ledger.getPlan('default');
  const mine = plan.reservations.filter((r) => r.execution_id === execution_id);
  expect(mine.length).toBe(1);
  expect(mine[0]!.status).toBe('charged');
  const verified = await h.world.ledger.verifyPlan('default');
  expect(verified.ok).toBe(true);
  // The worker keeps nothing: the outcome is in the world store, the workdir is gone (issue 12 part 3).
  expect(existsSync(join(h.cfg.stateDir, 'runs', execution_id))).toBe(false);
  // The history shows the retry: Execute ran more than once, the container only once.
  const history = await handle.fetchHistory();
  const executeStarts = (history.events ?? []).filter(
    (e) =>
      e.activityTaskStartedEventAttributes &&
      e.activityTaskStartedEventAttributes.attempt &&
      e.activityTaskStartedEventAttributes.attempt > 1,
  );
  expect(executeStarts.length).toBeGreaterThanOrEqual(1);
}, 240_000);

// ----------------------------------------------------------------------------------------------------
// Issue 13, item 1: a Temporal server outage longer than the heartbeat timeout must not kill runs. Our
// own dev server (own port, own SQLite under a temp state dir) is stopped ~3 s after the containers run
// and restarted 30 s later; a worker process of our own polls a task queue of its own.

// CI runs 8; the issue's target, 20 runs across the 30 s outage, passed here once (WL_CHAOS_RUNS=20: 20 of 20
// finished once, 0 failed, 0 duplicates, 103 s) and stays a manual check: 20 node containers booting at once
// on two loaded cores is what pushes runs toward their 30 s timeout, and CI time is better spent elsewhere.
const OUTAGE_RUNS = Number(process.env.WL_CHAOS_RUNS ?? 8);
// Well inside the fixture's 30 s runtime timeout even when 8 node containers boot at once on two loaded
// cores (with 20 s, five of eight runs went past 30 s here): a run past its own deadline is rightly ERR_TIMEOUT.
const SLEEP_S = 12;
const OUTAGE_MS = 30_000;

interface CreateEvent {
  Action: string;
  Actor: { Attributes: Record<string, string> };
}

/** Container create events per execution id, from the engine's event log between `since` and now. */
async function createsByExecution(engine: Dockerode, sinceSec: number): Promise<Map<string, number>> {
  const until = Math.floor(Date.now() / 1000) + 1;
  await new Promise((r) => setTimeout(r, Math.max(0, until * 1000 - Date.now() + 50)));
  const stream = (await engine.getEvents({
    since: sinceSec,
    until,
    filters: { type: ['container'], event: ['create'], label: [LABELS.executionId] },
  })) as unknown as AsyncIterable<Buffer>;
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c);
  const counts = new Map<string, number>();
  for (const line of Buffer.concat(chunks).toString().split('\n')) {
    if (!line.trim()) continue;
    const id = (JSON.parse(line) as CreateEvent).Actor.Attributes[LABELS.executionId];
    if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('a Temporal server outage mid-run', () => {
  let own: Config;
  let oh: LoopHarness | undefined;

  beforeAll(async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'wl-chaos-temporal-'));
    const [port, uiPort] = await freePorts(2);
    own = loadConfig({
      ...process.env,
      TEMPORAL_ADDRESS: undefined,
      WORLDLOOP_STATE_DIR: stateDir,
      WORLDLOOP_TEMPORAL_PORT: String(port),
      WORLDLOOP_UI_PORT: String(uiPort),
    });
    const server = await ensureDevServer(own);
    oh = await startLoopHarness({ temporalAddress: server.address, uiUrl: server.uiUrl }, { embeddedWorker: false });
  }, 900_000);

  afterAll(async () => {
    await oh?.close();
    if (own) await stopDevServer(own);
  });

  it(`${OUTAGE_RUNS} runs survive a ${OUTAGE_MS / 1000} s outage: each finishes once, one container, one receipt, charged once`, async () => {
    const h2 = oh!;
    const since = Math.floor(Date.now() / 1000) - 1;
    const worker = startWorkerProcess(h2.env);
    let workerRestarts = 0;
    const runs = await Promise.all(
      Array.from({ length: OUTAGE_RUNS }, (_, i) =>
        h2.start({
          processor_ref: 'test/fixture@1',
          inputs: { behaviour: 'sleep', sleep_s: SLEEP_S, text: `outage-${i}` },
        }),
      ),
    );
    await waitFor(
      'every container to run',
      async () => {
        const list = await docker.listContainers({ filters: { label: [LABELS.executionId] } });
        const running = new Set(list.map((c) => c.Labels[LABELS.executionId]));
        return runs.every((r) => running.has(r.execution_id)) ? true : undefined;
      },
      180_000,
    );
    await new Promise((r) => setTimeout(r, 3_000));
    const stopped = await stopDevServer(own);
    expect(stopped.stopped).toBe(true);
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await ensureDevServer(own);
    // A worker that gave up on the server while it was away is restarted, as a process supervisor would.
    if (worker.exitCode !== null || worker.signalCode !== null) {
      startWorkerProcess(h2.env);
      workerRestarts++;
    }

    const envelopes = await Promise.all(runs.map((r) => envelopeOf(r.handle)));
    const creates = await createsByExecution(docker, since);
    const plan = await h2.world.ledger.getPlan('default');
    const figures = {
      started: runs.length,
      finished_once: 0,
      failed: 0,
      duplicates: 0,
      worker_restarts: workerRestarts,
    };
    const failures: string[] = [];
    for (const [i, r] of runs.entries()) {
      const env = envelopes[i]!;
      const created = creates.get(r.execution_id) ?? 0;
      const charged = plan.reservations.filter((x) => x.execution_id === r.execution_id && x.status === 'charged');
      const receiptOk = await h2.world.world
        .readBytes(determinismPath(r.execution_id))
        .then(
          (bytes) => ReceiptSchema.parse(JSON.parse(new TextDecoder().decode(bytes))).execution_id === r.execution_id,
        )
        .catch(() => false);
      if (created > 1) figures.duplicates++;
      if (env.status === 'success' && created === 1 && receiptOk && charged.length === 1) figures.finished_once++;
      else {
        figures.failed++;
        failures.push(
          `${r.execution_id}: ${env.status === 'error' ? env.error.code : 'success'} creates=${created} receipt=${receiptOk} charged=${charged.length}`,
        );
      }
    }
    console.log(`[chaos] temporal outage ${OUTAGE_MS / 1000} s: ${JSON.stringify(figures)}`);
    expect(failures).toEqual([]);
    expect(figures.finished_once).toBe(OUTAGE_RUNS);
    expect((await h2.world.ledger.verifyPlan('default')).ok).toBe(true);
  }, 600_000);
});

// ----------------------------------------------------------------------------------------------------
// Issue 13, item 1: a dockerd restart mid-run. A dockerd of the test's own (never the shared engine) runs
// the containers of a worker process pointed at it through DOCKER_HOST, and is restarted while they run.
// Without --live-restore the engine stops every container on shutdown: the adapter sees a kill it did not
// send (or loses the engine), so the run is ERR_ENGINE_STOPPED and retried in a fresh container. With
// --live-restore the containers keep running and the next attempt adopts them. Either way every run
// finishes once, and no execution ever has two containers at the same time (counted through the engine).

const DOCKERD_RUNS = Number(process.env.WL_CHAOS_DOCKERD_RUNS ?? 3);

interface ContainerEvent {
  Action: string;
  Actor: { Attributes: Record<string, string> };
}

/** Follows create/destroy of execution containers across engine lifetimes: how many exist per execution. */
class ContainerCensus {
  readonly creates = new Map<string, number>();
  readonly live = new Map<string, number>();
  readonly mostAtOnce = new Map<string, number>();
  #stream: { destroy(): void } | undefined;

  /** From `sinceSec` on: a restarted engine replays its own life's events, so nothing created early is missed. */
  async follow(engine: Dockerode, sinceSec: number): Promise<void> {
    const stream = await engine.getEvents({
      since: sinceSec,
      filters: { type: ['container'], event: ['create', 'destroy'], label: [LABELS.executionId] },
    });
    this.#stream = stream as unknown as { destroy(): void };
    let pending = '';
    stream.on('error', () => undefined);
    stream.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines.filter((l) => l.trim())) this.#count(JSON.parse(line) as ContainerEvent);
    });
  }

  #count(e: ContainerEvent): void {
    const id = e.Actor.Attributes[LABELS.executionId];
    if (!id) return;
    const delta = e.Action === 'create' ? 1 : -1;
    if (delta > 0) this.creates.set(id, (this.creates.get(id) ?? 0) + 1);
    const now = (this.live.get(id) ?? 0) + delta;
    this.live.set(id, now);
    this.mostAtOnce.set(id, Math.max(this.mostAtOnce.get(id) ?? 0, now));
  }

  stop(): void {
    this.#stream?.destroy();
  }
}

describe.each([{ liveRestore: false }, { liveRestore: true }])(
  'a dockerd restart mid-run (live-restore: $liveRestore)',
  ({ liveRestore }) => {
    let dd: OwnDockerd | undefined;
    let dh: LoopHarness | undefined;

    beforeAll(async () => {
      dd = await startOwnDockerd({ liveRestore });
      dh = await startLoopHarness(integrationEnv(), { embeddedWorker: false, overrides: { DOCKER_HOST: dd.host } });
      // The processor image, pulled into the new engine from the loopback registry by digest.
      const registry = await loadRegistry(dh.cfg.registryDir, { root: REPO_ROOT });
      const image = getEntry(registry, 'test/fixture@1').image.platforms.amd64!;
      await new Promise<void>((resolve, reject) => {
        void dd!.docker.pull(image, {}, (err: Error | null, stream?: NodeJS.ReadableStream) => {
          if (err || !stream) return reject(err ?? new Error('no pull stream'));
          dd!.docker.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve()));
        });
      });
    }, 900_000);

    afterAll(async () => {
      await dh?.close();
      await dd?.destroy();
    });

    it(`${DOCKERD_RUNS} runs finish once across the restart; never two containers of one execution at a time`, async () => {
      const engine = dd!;
      const h3 = dh!;
      const census = new ContainerCensus();
      await census.follow(engine.docker, Math.floor(Date.now() / 1000) - 1);
      const worker = startWorkerProcess(h3.env);
      const runs = await Promise.all(
        Array.from({ length: DOCKERD_RUNS }, (_, i) =>
          h3.start({
            processor_ref: 'test/fixture@1',
            inputs: { behaviour: 'sleep', sleep_s: SLEEP_S, text: `dockerd-${String(liveRestore)}-${i}` },
          }),
        ),
      );
      await waitFor(
        'every container to run on the own engine',
        async () => {
          const list = await engine.docker.listContainers({ filters: { label: [LABELS.executionId] } });
          const running = new Set(list.map((c) => c.Labels[LABELS.executionId]));
          return runs.every((r) => running.has(r.execution_id)) ? true : undefined;
        },
        180_000,
      );
      await new Promise((r) => setTimeout(r, 2_000));
      // The old engine's stream runs until that engine exits (it ends the stream itself).
      const restartStarted = Date.now();
      await engine.restart();
      const restartMs = Date.now() - restartStarted;
      await census.follow(engine.docker, Math.floor(restartStarted / 1000));

      const envelopes = await Promise.all(runs.map((r) => envelopeOf(r.handle)));
      // The last removals travel on the event stream a moment after the runs finish.
      await waitFor('every container to be removed', async () => {
        const left = await engine.docker.listContainers({ all: true, filters: { label: [LABELS.executionId] } });
        return left.length === 0 ? true : undefined;
      });
      census.stop();
      const plan = await h3.world.ledger.getPlan('default');
      const figures = { started: runs.length, finished_once: 0, failed: 0, duplicates: 0, retried_fresh: 0 };
      const failures: string[] = [];
      for (const [i, r] of runs.entries()) {
        const env = envelopes[i]!;
        const charged = plan.reservations.filter((x) => x.execution_id === r.execution_id && x.status === 'charged');
        const receiptOk = await h3.world.world
          .readBytes(determinismPath(r.execution_id))
          .then((b) => ReceiptSchema.parse(JSON.parse(new TextDecoder().decode(b))).execution_id === r.execution_id)
          .catch(() => false);
        const atOnce = census.mostAtOnce.get(r.execution_id) ?? 0;
        const created = census.creates.get(r.execution_id) ?? 0;
        if (atOnce > 1) figures.duplicates++;
        if (created > 1) figures.retried_fresh++;
        const workdirGone = !existsSync(join(h3.cfg.stateDir, 'runs', r.execution_id));
        if (env.status === 'success' && atOnce === 1 && receiptOk && charged.length === 1 && workdirGone) {
          figures.finished_once++;
        } else {
          figures.failed++;
          failures.push(
            `${r.execution_id}: ${env.status === 'error' ? `${env.error.code} ${env.error.message}` : 'success'} at_once=${atOnce} creates=${created} receipt=${receiptOk} charged=${charged.length} workdir_gone=${workdirGone}`,
          );
        }
      }
      console.log(
        `[chaos] dockerd restart (live-restore=${String(liveRestore)}, restart ${restartMs} ms): ${JSON.stringify(figures)}`,
      );
      expect(failures).toEqual([]);
      expect(figures.duplicates).toBe(0);
      // With --live-restore the containers survive and are adopted: no run needs a second container.
      if (liveRestore) expect(figures.retried_fresh).toBe(0);
      expect((await h3.world.ledger.verifyPlan('default')).ok).toBe(true);
      worker.kill('SIGKILL');
    }, 600_000);
  },
);
