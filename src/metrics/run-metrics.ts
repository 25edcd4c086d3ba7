// The worker's own Prometheus metrics (issue 7): runs by processor/status/cache hit, phase durations,
// container start latency and budget movements per plan. One Registry per worker rather than
// prom-client's global one, so two workers in one process (the tests, an embedded worker) never collide
// on metric registration and each serves only its own numbers.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Phase durations span a cache hit (milliseconds) to a long container run (minutes). */
const PHASE_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];
const START_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

export type RunStatus = 'succeeded' | 'failed';
export type PhaseOutcome = 'ok' | 'error';

export class RunMetrics {
  readonly registry = new Registry();
  readonly runs = new Counter({
    name: 'worldloop_runs_total',
    help: 'Runs that ended, by processor, status and whether Admit found a verified cache hit.',
    labelNames: ['processor', 'status', 'cache_hit', 'code'] as const,
    registers: [this.registry],
  });
  readonly phaseSeconds = new Histogram({
    name: 'worldloop_phase_duration_seconds',
    help: 'Wall time of one phase activity attempt, by phase and outcome.',
    labelNames: ['phase', 'outcome'] as const,
    buckets: PHASE_BUCKETS_S,
    registers: [this.registry],
  });
  readonly containerStartSeconds = new Histogram({
    name: 'worldloop_container_start_seconds',
    help: 'From the start of an Execute attempt to the moment the engine reports the container running.',
    labelNames: ['adapter'] as const,
    buckets: START_BUCKETS_S,
    registers: [this.registry],
  });
  readonly budgetReservedUsd = new Counter({
    name: 'worldloop_budget_reserved_usd_total',
    help: 'Upper bounds reserved from each plan (USD).',
    labelNames: ['plan'] as const,
    registers: [this.registry],
  });
  readonly budgetSpentUsd = new Counter({
    name: 'worldloop_budget_spent_usd_total',
    help: 'Actual costs charged to each plan at Settle (USD).',
    labelNames: ['plan'] as const,
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    // Heap, event-loop lag and file descriptors of the worker process: the first things an operator checks.
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'worldloop_' });
  }

  /** The exposition text, as served on /metrics. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
