import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { RunMetrics, observePhase, parseMetricsAddress, phaseObserver, startMetricsServer } from '../../src/metrics';
import type { MetricsServer } from '../../src/metrics';
import { expectCode } from './helpers/expect-code';

/** One sample's value from the registry, found by sample name (`x_count`, `x_sum` for histograms) and labels. */
async function sample(metrics: RunMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const base = name.replace(/_(sum|count|bucket)$/, '');
  const metric = metrics.registry.getSingleMetric(name) ?? metrics.registry.getSingleMetric(base);
  if (!metric) return undefined;
  const { values } = await metric.get();
  const hit = values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? name) === name &&
      Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want),
  );
  return hit?.value;
}

const request = { processor_ref: 'text/stats@1', plan: 'team-a', inputs: {}, mode: 'mock', adapter: 'local' };

describe('parseMetricsAddress', () => {
  it('reads host:port, bracketed IPv6, and the off spellings', () => {
    expect(parseMetricsAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseMetricsAddress('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseMetricsAddress('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    for (const off of ['0', 'off', 'OFF', '']) expect(parseMetricsAddress(off)).toBeUndefined();
  });
  it('refuses what is not an address', () => {
    for (const bad of ['9464', 'host:', 'host:99999', 'http://x:1']) expect(() => parseMetricsAddress(bad)).toThrow();
  });
});

describe('WORLDLOOP_METRICS_ADDR', () => {
  it('defaults to 127.0.0.1:9464 and accepts off', () => {
    expect(loadConfig({}).metricsAddr).toBe('127.0.0.1:9464');
    expect(loadConfig({ WORLDLOOP_METRICS_ADDR: 'off' }).metricsAddr).toBe('off');
  });
  it('refuses a malformed address with ERR_CONFIG_INVALID', () => {
    expectCode('ERR_CONFIG_INVALID', () => loadConfig({ WORLDLOOP_METRICS_ADDR: 'not an address' }));
  });
});

describe('observePhase', () => {
  it('counts a successful run once, at recheck, with its cache flag', async () => {
    const m = new RunMetrics({ processMetrics: false });
    const envelope = { status: 'success', meta: { cache_hit: true, cost_micro: 0 } };
    observePhase(m, {
      phase: 'settle',
      input: { request },
      startedAtMs: 0,
      seconds: 0.2,
      result: { ok: true, output: envelope },
    });
    observePhase(m, {
      phase: 'recheck',
      input: { request, envelope },
      startedAtMs: 0,
      seconds: 0.01,
      result: { ok: true, output: undefined },
    });
    expect(
      await sample(m, 'worldloop_runs_total', { processor: 'text/stats@1', status: 'succeeded', cache_hit: 'true' }),
    ).toBe(1);
    expect(await sample(m, 'worldloop_phase_duration_seconds_count', { phase: 'settle', outcome: 'ok' })).toBe(1);
    expect(await sample(m, 'worldloop_phase_duration_seconds_sum', { phase: 'settle', outcome: 'ok' })).toBeCloseTo(
      0.2,
    );
  });

  it('adds reserved and spent budget per plan in USD', async () => {
    const m = new RunMetrics({ processMetrics: false });
    const admitted = { reserve_micro: 250_000, adapter: 'local' };
    const reserve = { phase: 'reserve', input: { plan: 'team-a', admitted }, startedAtMs: 0, seconds: 0.01 };
    observePhase(m, { ...reserve, result: { ok: true, output: { status: 'reserved' } } });
    observePhase(m, { ...reserve, result: { ok: true, output: { status: 'cache_hit', record: {} } } });
    observePhase(m, {
      phase: 'settle',
      input: { request },
      startedAtMs: 0,
      seconds: 0.1,
      result: { ok: true, output: { meta: { cost_micro: 120_000 } } },
    });
    expect(await sample(m, 'worldloop_budget_reserved_usd_total', { plan: 'team-a' })).toBeCloseTo(0.25);
    expect(await sample(m, 'worldloop_budget_spent_usd_total', { plan: 'team-a' })).toBeCloseTo(0.12);
  });

  it('measures container start from the attempt start to the container StartedAt, skipping adopted ones', async () => {
    const m = new RunMetrics({ processMetrics: false });
    const startedAtMs = Date.parse('2026-01-01T00:00:00.000Z');
    const input = { admitted: { adapter: 'local' } };
    const ok = (started_at: string) => ({ ok: true as const, output: { started_at } });
    observePhase(m, { phase: 'execute', input, startedAtMs, seconds: 2, result: ok('2026-01-01T00:00:00.750Z') });
    // Adopted: the container started before this attempt did.
    observePhase(m, { phase: 'execute', input, startedAtMs, seconds: 2, result: ok('2025-12-31T23:59:59.000Z') });
    expect(await sample(m, 'worldloop_container_start_seconds_count', { adapter: 'local' })).toBe(1);
    expect(await sample(m, 'worldloop_container_start_seconds_sum', { adapter: 'local' })).toBeCloseTo(0.75);
  });

  it('counts a failed run on a non-retryable failure only, never on release', async () => {
    const m = new RunMetrics({ processMetrics: false });
    const base = { input: { request }, startedAtMs: 0, seconds: 0.5 };
    observePhase(m, {
      ...base,
      phase: 'execute',
      result: { ok: false, code: 'ERR_ADAPTER_UNAVAILABLE', nonRetryable: false },
    });
    observePhase(m, {
      ...base,
      phase: 'execute',
      result: { ok: false, code: 'ERR_PROCESSOR_FAILED', nonRetryable: true },
    });
    observePhase(m, { ...base, phase: 'release', result: { ok: false, code: 'ERR_INTERNAL', nonRetryable: true } });
    const failed = { processor: 'text/stats@1', status: 'failed' };
    expect(await sample(m, 'worldloop_runs_total', { ...failed, code: 'ERR_PROCESSOR_FAILED' })).toBe(1);
    expect(await sample(m, 'worldloop_runs_total', { ...failed, code: 'ERR_ADAPTER_UNAVAILABLE' })).toBeUndefined();
    expect(await sample(m, 'worldloop_runs_total', { ...failed, code: 'ERR_INTERNAL' })).toBeUndefined();
    expect(await sample(m, 'worldloop_phase_duration_seconds_count', { phase: 'execute', outcome: 'error' })).toBe(2);
  });

  it('phaseObserver is a no-op without metrics and times the attempt with them', async () => {
    expect(() => phaseObserver(undefined, 'admit', {})({ ok: true, output: {} })).not.toThrow();
    const m = new RunMetrics({ processMetrics: false });
    phaseObserver(m, 'admit', {})({ ok: true, output: {} });
    expect(await sample(m, 'worldloop_phase_duration_seconds_count', { phase: 'admit', outcome: 'ok' })).toBe(1);
  });
});

describe('metrics server', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves the exposition text at /metrics and 404 elsewhere', async () => {
    const m = new RunMetrics();
    m.budgetSpentUsd.inc({ plan: 'p' }, 1.5);
    server = await startMetricsServer(m, { host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${server.address.port}`;
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const body = await res.text();
    expect(body).toContain('worldloop_budget_spent_usd_total{plan="p"} 1.5');
    expect(body).toContain('worldloop_process_resident_memory_bytes');
    expect((await fetch(`${base}/other`)).status).toBe(404);
  });

  it('rejects when the port is taken, so the worker can log it and go on', async () => {
    server = await startMetricsServer(new RunMetrics({ processMetrics: false }), { host: '127.0.0.1', port: 0 });
    await expect(
      startMetricsServer(new RunMetrics({ processMetrics: false }), { host: '127.0.0.1', port: server.address.port }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
