// The one place the phase activities are assembled from their dependencies (STYLE.md: dependency
// injection by factory). Each activity converts what it throws into an ApplicationFailure whose type is
// the catalogue code, so Temporal retries exactly the retryable codes and the workflow can read the code.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { failureFrom } from '../src/contracts';
import { defaultRedactor } from '../src/log';
import { phaseObserver } from '../src/metrics';
import { makeAdmit } from './admit';
import type { ActivityDeps } from './deps';
import { makeExecute } from './execute';
import { makeRecheck } from './recheck';
import { makeRelease } from './release';
import { makeReserve } from './reserve';
import { makeSettle, makeSettleCached } from './settle';

/** Wraps a phase: exactly one start and one end log event, and coded failures. */
function phase<I, O>(deps: ActivityDeps, name: string, fn: (input: I) => Promise<O>): (input: I) => Promise<O> {
  return async (input: I) => {
    const info = Context.current().info;
    const executionId = (input as { execution_id?: string }).execution_id;
    const log = deps.logger.child({ execution_id: executionId, phase: name, attempt: info.attempt });
    const started = performance.now();
    const observe = phaseObserver(deps.metrics, name, input);
    log.info({ event: 'phase.start' }, `${name} started`);
    try {
      const out = await fn(input);
      observe({ ok: true, output: out });
      log.info({ event: 'phase.end', ok: true, ms: Math.round(performance.now() - started) }, `${name} finished`);
      return out;
    } catch (err) {
      const failure = redacted(failureFrom(err));
      observe({ ok: false, code: failure.type ?? 'unknown', nonRetryable: failure.nonRetryable === true });
      log.warn(
        { event: 'phase.end', ok: false, code: failure.type, ms: Math.round(performance.now() - started) },
        failure.message,
      );
      throw failure;
    }
  };
}

/**
 * The failure's message becomes the history's failure message and the first line of its stack trace: a
 * processor message that quotes a provider must not carry a secret there in any encoding. The redactor is
 * the process-wide one the secret resolver registers every value it hands out into.
 */
function redacted(failure: ApplicationFailure): ApplicationFailure {
  const message = defaultRedactor.redactString(failure.message);
  if (message === failure.message && !defaultRedactor.containsSecret(JSON.stringify(failure.details ?? null))) {
    return failure;
  }
  return ApplicationFailure.create({
    type: failure.type ?? undefined,
    nonRetryable: failure.nonRetryable ?? undefined,
    message,
    details: defaultRedactor.redactValue(failure.details ?? undefined) as unknown[] | undefined,
  });
}

export function createActivities(deps: ActivityDeps) {
  return {
    admit: phase(deps, 'admit', makeAdmit(deps)),
    reserve: phase(deps, 'reserve', makeReserve(deps)),
    execute: phase(deps, 'execute', makeExecute(deps)),
    settle: phase(deps, 'settle', makeSettle(deps)),
    settleCached: phase(deps, 'settle', makeSettleCached(deps)),
    recheck: phase(deps, 'recheck', makeRecheck(deps)),
    release: phase(deps, 'release', makeRelease(deps)),
  };
}

export type Activities = ReturnType<typeof createActivities>;
