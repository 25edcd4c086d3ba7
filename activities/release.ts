// The compensation step: a run that fails after Reserve gives back its reservation and its leases.
// Both operations are idempotent, so a retried or repeated release is harmless. The run's workdir goes too:
// a failed run has nothing left to settle from it.
import type { ActivityDeps } from './deps';
import type { ReleaseInput } from './types';
import { removeWorkdir } from './workdir';

export function makeRelease(deps: ActivityDeps) {
  return async function release({ execution_id, plan }: ReleaseInput): Promise<void> {
    await deps.plans.release(plan, execution_id);
    await deps.leases.releaseLeases(execution_id);
    await removeWorkdir(deps.workdirFor(execution_id));
  };
}
