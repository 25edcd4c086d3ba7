// The compensation step: a run that fails after Reserve gives back its reservation and its leases.
// Both operations are idempotent, so a retried or repeated release is harmless. The run's workdir goes too:
// a failed run has nothing left to settle from it.
import type { ActivityDeps } from './deps';
import type { ReleaseInput } from './types';
import { releaseContainer } from './execute-record';
import { removeWorkdir } from './workdir';

export function makeRelease(deps: ActivityDeps) {
  return async function release({ execution_id, plan }: ReleaseInput): Promise<void> {
    await deps.plans.release(plan, execution_id);
    await deps.leases.releaseLeases(execution_id);
    await removeWorkdir(deps.workdirFor(execution_id));
    // A container Execute kept for an outcome it never recorded (ADR 0020): the run is over, so it goes. Best
    // effort — an engine away leaves a stopped container, never a run holding budget.
    for (const adapter of Object.values(deps.adapters))
      await releaseContainer(adapter, execution_id).catch(() => undefined);
  };
}
