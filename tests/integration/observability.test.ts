// Observability end to end (issue 7): a real run through the loop, the worker's Prometheus endpoint
// scraped by a real Prometheus server and read back through its HTTP query API; the Temporal SDK's own
// worker metrics scraped from the second endpoint.
import { METRICS_PORT, SDK_METRICS_ADDR } from './observability-runtime';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { execFile, spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { REPO_ROOT } from '../../src/config';
import { WorldloopError } from '../../src/contracts';
import { createLogger } from '../../src/log';
import { runLogsPath } from '../../src/run-logs';
import { buildActivityDeps } from '../../src/temporal/worker';
import { runEnvelope as envelopeOf } from '../../src/temporal/client';
import { integrationEnv } from './env';
import { startActivitiesWorker, startLoopHarness, type LoopHarness } from './loop-harness';
import { startPrometheus, waitFor, type PrometheusServer } from './prometheus-server';

const exec = promisify(execFile);
let h: LoopHarness;
let prometheus: PrometheusServer | undefined;
const METRICS_ADDR = `127.0.0.1:${METRICS_PORT}`;

beforeAll(async () => {
  h = await startLoopHarness(integrationEnv(), { overrides: { WORLDLOOP_METRICS_ADDR: METRICS_ADDR } });
}, 900_000);

afterAll(async () => {
  await prometheus?.close();
  await h?.close();
});

/** Polls an instant query until it returns a sample (the next scrape after the run) and returns its value. */
async function valueOf(promql: string): Promise<number> {
  return waitFor(promql, 15_000, async () => (await prometheus!.query(promql))[0]?.value);
}

describe('metrics', () => {
  it('a real run shows up in Prometheus: runs, cache hits, phase durations, budget, SDK worker metrics', async () => {
    expect(h.worker?.metrics?.server.address.port).toBe(METRICS_PORT);
    const inputs = { text: `observability ${Date.now()}` };
    const first = await h.run({ processor_ref: 'text/stats@1', inputs });
    expect(first.envelope.status, JSON.stringify(first.envelope)).toBe('success');
    const second = await h.run({ processor_ref: 'text/stats@1', inputs });
    expect(second.envelope.status === 'success' && second.envelope.meta.cache_hit).toBe(true);

    const scrapeStarted = performance.now();
    const res = await fetch(`http://${METRICS_ADDR}/metrics`);
    const body = await res.text();
    const scrapeMs = performance.now() - scrapeStarted;
    expect(res.status).toBe(200);
    console.info(
      `[obs] direct scrape of ${METRICS_ADDR}/metrics: ${scrapeMs.toFixed(1)} ms, ${body.length} bytes\n` +
        body
          .split('\n')
          .filter((l) =>
            /^worldloop_(runs_total|budget|container_start_seconds_(sum|count)|phase_duration_seconds_count)/.test(l),
          )
          .join('\n'),
    );

    prometheus = await startPrometheus({ worldloop: [METRICS_ADDR], 'temporal-sdk': [SDK_METRICS_ADDR] });
    await prometheus.waitForTargetsUp();

    const runs = (cacheHit: boolean) =>
      `worldloop_runs_total{job="worldloop",processor="text/stats@1",status="succeeded",cache_hit="${cacheHit}"}`;
    expect(await valueOf(runs(false))).toBe(1);
    expect(await valueOf(runs(true))).toBe(1);
    // The first run took five phase activities; the cache hit three (admit, settle from the cache, recheck).
    expect(await valueOf('sum(worldloop_phase_duration_seconds_count{phase="execute",outcome="ok"})')).toBe(1);
    expect(await valueOf('sum(worldloop_phase_duration_seconds_count{phase="recheck",outcome="ok"})')).toBe(2);
    expect(await valueOf('worldloop_container_start_seconds_count{adapter="local"}')).toBe(1);
    expect(await valueOf('worldloop_container_start_seconds_sum{adapter="local"}')).toBeGreaterThan(0);
    // text/stats is free: the reservation is its declared upper bound, the spend is zero.
    expect(await valueOf('worldloop_budget_spent_usd_total{plan="default"}')).toBe(0);
    expect(await valueOf('worldloop_budget_reserved_usd_total{plan="default"}')).toBeGreaterThanOrEqual(0);
    // The SDK's own worker metrics, from the second endpoint, agree with ours: eight phase executions, of which the
    // miss's execute and settle ran as ordinary activities and the rest as local ones (ADR 0021, ADR 0023).
    expect(await valueOf('sum(worldloop_phase_duration_seconds_count)')).toBe(8);
    expect(await valueOf('sum(temporal_activity_execution_latency_count{job="temporal-sdk"})')).toBe(2);
    expect(await valueOf('sum(temporal_local_activity_execution_latency_count{job="temporal-sdk"})')).toBe(6);
    const scrape = await valueOf('scrape_duration_seconds{job="worldloop"}');
    console.info(`[obs] Prometheus scrape_duration_seconds{job="worldloop"} = ${(scrape * 1000).toFixed(1)} ms`);
  });
});

// A worker of our own for the logs tests, so an Execute attempt can be made to fail at a chosen point:
// inputs whose text names a sabotage fail attempt 1 after the container has finished — inside the adapter
// (before the log is kept: attempt 2 adopts the recorded result and keeps it) or after the whole Execute
// (after the log is kept and forwarded: attempt 2 must not forward it again).
describe('run logs', () => {
  let hl: LoopHarness;
  let worker: { shutdown(): Promise<void> } | undefined;
  const records: Record<string, unknown>[] = [];
  const LIFECYCLE = ['execution.start', 'provider.call', 'provider.response', 'storage.write', 'execution.settle'];

  beforeAll(async () => {
    hl = await startLoopHarness(integrationEnv(), {
      embeddedWorker: false,
      overrides: { WORLDLOOP_METRICS_ADDR: 'off' },
    });
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) records.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination });
    const deps = await buildActivityDeps(hl.cfg, hl.client, logger);
    const sabotage = (inputs: unknown) => String((inputs as { text?: unknown }).text ?? '').split(' ')[0];
    const real = deps.adapters.local!;
    // The real adapter with invoke sabotaged; its container-keeping methods stay, so nothing is left behind.
    deps.adapters.local = {
      name: 'local',
      discard: (id) => real.discard!(id),
      stoppedContainers: () => real.stoppedContainers!(),
      async invoke(args, ctl) {
        const outcome = await real.invoke(args, ctl);
        if (sabotage(args.inputs) === 'fail-in-adapter' && Context.current().info.attempt === 1)
          throw new WorldloopError('ERR_ADAPTER_UNAVAILABLE', 'test: the engine vanished after the container finished');
        return outcome;
      },
    };
    const activities = createActivities(deps);
    worker = await startActivitiesWorker(
      hl,
      {
        ...activities,
        async execute(input: Parameters<typeof activities.execute>[0]) {
          const out = await activities.execute(input);
          if (sabotage(input.request.inputs) === 'fail-after-execute' && Context.current().info.attempt === 1)
            throw ApplicationFailure.retryable(
              'test: the worker died before reporting Execute',
              'ERR_ADAPTER_UNAVAILABLE',
            );
          return out;
        },
      },
      logger,
    );
  }, 900_000);

  afterAll(async () => {
    await worker?.shutdown();
    await hl?.close();
  });

  const eventsOf = (text: string) =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { event: string }).event);

  async function checkOnce(executionId: string): Promise<string> {
    const text = new TextDecoder().decode(await hl.world.world.readBytes(runLogsPath(executionId)));
    expect(eventsOf(text)).toEqual(LIFECYCLE);
    for (const l of text.split('\n').filter(Boolean))
      expect(JSON.parse(l)).toMatchObject({ execution_id: executionId });
    const forwarded = records.filter((r) => r.source === 'processor' && r.execution_id === executionId);
    expect(forwarded.map((r) => r.event)).toEqual(LIFECYCLE);
    expect(forwarded[0]).toMatchObject({ processor_ref: 'text/stats@1', adapter: 'local', mode: 'mock' });
    // Execute really ran twice.
    const attempts = records.filter(
      (r) => r.execution_id === executionId && r.phase === 'execute' && r.event === 'phase.start',
    );
    expect(attempts.map((r) => r.attempt)).toEqual([1, 2]);
    return text;
  }

  for (const where of ['fail-in-adapter', 'fail-after-execute']) {
    it(`keeps each lifecycle event exactly once when Execute is retried (${where})`, async () => {
      const { execution_id, envelope } = await hl.run({
        processor_ref: 'text/stats@1',
        inputs: { text: `${where} ${Date.now()}` },
        cache: false,
      });
      expect(envelope.status, JSON.stringify(envelope)).toBe('success');
      const text = await checkOnce(execution_id);
      // An execution artifact, not an output: outputs.json and the receipt do not list it.
      if (envelope.status === 'success') {
        expect(envelope.outputs.some((p) => p.endsWith('logs.jsonl'))).toBe(false);
        const index = new TextDecoder().decode(await hl.world.world.readBytes(envelope.index_path));
        expect(index).not.toContain('logs.jsonl');
      }
      // `worldloop logs --json` prints the artifact as kept; the human form one line per event.
      const cli = await exec('node', ['bin/worldloop.js', 'logs', execution_id, '--json'], {
        cwd: REPO_ROOT,
        env: hl.env,
      });
      expect(cli.stdout).toBe(text);
      const human = await exec('node', ['bin/worldloop.js', 'logs', execution_id], { cwd: REPO_ROOT, env: hl.env });
      expect(
        human.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(/\s{2,}/)[2]),
      ).toEqual(LIFECYCLE);
    });
  }

  it('logs --follow tails a running run and exits when it ends', async () => {
    const { execution_id, handle } = await hl.start({
      processor_ref: 'text/stats@1',
      inputs: { text: `follow ${Date.now()}` },
      cache: false,
    });
    const child = spawn('node', ['bin/worldloop.js', 'logs', execution_id, '--follow', '--json'], {
      cwd: REPO_ROOT,
      env: hl.env,
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(exitCode).toBe(0);
    const envelope = await envelopeOf(handle);
    expect(envelope.status).toBe('success');
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    expect(eventsOf(stdout)).toEqual(LIFECYCLE);
  });

  it('logs of an unknown execution id is ERR_NOT_FOUND with exit 2', async () => {
    const err = await exec('node', ['bin/worldloop.js', 'logs', '01a20c30-47c9-757d-a13d-000000000000', '--json'], {
      cwd: REPO_ROOT,
      env: hl.env,
    }).catch((e: { code: number; stdout: string }) => e);
    expect('code' in err && err.code).toBe(2);
    expect(JSON.parse(err.stdout)).toMatchObject({ ok: false, code: 'ERR_NOT_FOUND' });
  });
});
