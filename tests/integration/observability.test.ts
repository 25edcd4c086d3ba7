// Observability end to end (issue 7): a real run through the loop, the worker's Prometheus endpoint
// scraped by a real Prometheus server and read back through its HTTP query API; the Temporal SDK's own
// worker metrics scraped from the second endpoint.
import { METRICS_PORT, SDK_METRICS_ADDR } from './observability-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrationEnv } from './env';
import { startLoopHarness, type LoopHarness } from './loop-harness';
import { startPrometheus, waitFor, type PrometheusServer } from './prometheus-server';

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
    // The SDK's own worker metrics, from the second endpoint, agree with ours: eight activity executions.
    expect(await valueOf('sum(worldloop_phase_duration_seconds_count)')).toBe(8);
    expect(await valueOf('sum(temporal_activity_execution_latency_count{job="temporal-sdk"})')).toBe(8);
    const scrape = await valueOf('scrape_duration_seconds{job="worldloop"}');
    console.info(`[obs] Prometheus scrape_duration_seconds{job="worldloop"} = ${(scrape * 1000).toFixed(1)} ms`);
  });
});
