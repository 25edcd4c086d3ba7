// Turns one phase activity attempt into metric updates. The phase wrapper (activities/create-activities.ts)
// calls this with what it already has — the phase name, its input, its result or failure — so the phases
// themselves stay free of metrics code. Inputs arrive as `unknown` and are read defensively: a metric is
// skipped, never a run failed, when a field is not where it is expected.
import type { RunMetrics } from './run-metrics';

export interface PhaseAttempt {
  phase: string;
  input: unknown;
  /** Wall-clock milliseconds (Date.now()) when the attempt began; container start latency needs a date. */
  startedAtMs: number;
  seconds: number;
  result: { ok: true; output: unknown } | { ok: false; code: string; nonRetryable: boolean };
}

function field(value: unknown, ...path: string[]): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

const text = (value: unknown, fallback = 'unknown'): string =>
  typeof value === 'string' && value !== '' ? value : fallback;
const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

export function observePhase(metrics: RunMetrics, attempt: PhaseAttempt): void {
  const { phase, input, result } = attempt;
  metrics.phaseSeconds.observe({ phase, outcome: result.ok ? 'ok' : 'error' }, attempt.seconds);
  if (!result.ok) {
    // A retryable failure is one attempt, not the end of the run; release is the compensation of a failure
    // that was already counted.
    if (result.nonRetryable && phase !== 'release') {
      metrics.runs.inc({
        processor: text(field(input, 'request', 'processor_ref')),
        status: 'failed',
        cache_hit: 'false',
        code: result.code,
      });
    }
    return;
  }
  const output = result.output;
  switch (phase) {
    case 'reserve': {
      const micro = num(field(input, 'admitted', 'reserve_micro'));
      if (field(output, 'status') === 'reserved' && micro !== undefined)
        metrics.budgetReservedUsd.inc({ plan: text(field(input, 'plan')) }, micro / 1e6);
      return;
    }
    case 'execute': {
      // Docker's StartedAt is the container's own start; an adopted container may have started before
      // this attempt, which is not a start latency of this attempt, so only positive spans count.
      const started = Date.parse(text(field(output, 'started_at'), ''));
      const latency = started - attempt.startedAtMs;
      if (Number.isFinite(latency) && latency >= 0)
        metrics.containerStartSeconds.observe({ adapter: text(field(input, 'admitted', 'adapter')) }, latency / 1000);
      return;
    }
    case 'settle': {
      const micro = num(field(output, 'meta', 'cost_micro'));
      if (micro !== undefined) metrics.budgetSpentUsd.inc({ plan: text(field(input, 'request', 'plan')) }, micro / 1e6);
      return;
    }
    case 'recheck':
      // Re-check is the last phase: a run has succeeded only once its predicates held on the landed world.
      metrics.runs.inc({
        processor: text(field(input, 'request', 'processor_ref')),
        status: 'succeeded',
        cache_hit: String(field(input, 'envelope', 'meta', 'cache_hit') === true),
        code: '',
      });
      return;
    default:
      return;
  }
}

/**
 * Starts timing one attempt and returns the function that records how it ended; a no-op when metrics
 * are off, so the phase wrapper needs no branch of its own.
 */
export function phaseObserver(
  metrics: RunMetrics | undefined,
  phase: string,
  input: unknown,
): (result: PhaseAttempt['result']) => void {
  if (!metrics) return () => {};
  const startedAtMs = Date.now();
  const started = performance.now();
  return (result) =>
    observePhase(metrics, { phase, input, startedAtMs, seconds: (performance.now() - started) / 1000, result });
}
