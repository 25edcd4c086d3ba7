// Re-check: the success predicates of the processor and the run, and the plan's invariants, evaluated
// against what actually landed. A failure quarantines the run's outputs — recorded, never deleted.
import { WorldloopError } from '../src/contracts';
import { describeFailures, evaluatePredicates } from '../src/world/predicates';
import type { ActivityDeps } from './deps';
import type { RecheckInput } from './types';

export function makeRecheck(deps: ActivityDeps) {
  return async function recheck({ execution_id, admitted, request, envelope }: RecheckInput): Promise<void> {
    if (envelope.status !== 'success') return;
    const failures = await evaluatePredicates(deps.world, admitted.success_predicates, {
      write_prefix: admitted.write_prefix,
      outputs: envelope.outputs,
    });
    const problems = failures.length > 0 ? [describeFailures(failures)] : [];
    const plan = await deps.plans.getPlan(request.plan);
    if (plan.spent_micro + plan.reserved_micro > plan.budget_micro) {
      problems.push(
        `plan invariant: ${request.plan} spent ${plan.spent_micro} + reserved ${plan.reserved_micro} > budget ${plan.budget_micro}`,
      );
    }
    if (problems.length === 0) return;
    const reason = problems.join('; ');
    for (const path of [...envelope.outputs, envelope.index_path]) {
      await deps.world.quarantine(path, { execution_id, reason });
    }
    throw new WorldloopError('ERR_PREDICATE_FAILED', reason);
  };
}
