// The client-side reading of a run's Temporal history for `worldloop verify`: the start input (plan, inputs),
// what Admit decided (its completed result) and whether the run settled from the cache. The history is the
// audit trail (docs/architecture.md §2), so these are the facts a stored receipt is held against.
import type { Client } from '@temporalio/client';
import type { AdmitResult } from '../../activities/types';
import { WorldloopError } from '../contracts/errors';
import { RunWorkflowInputSchema } from '../contracts/schemas';
import type { AdmittedRunFacts } from '../provenance/run-facts';
import { describeRun, runHandle } from './client';
import { activityOutcomes, decodePayload, startInput, type HistoryEvent } from './history-events';

/** The facts of a finished run from its history events (pure, so it is unit-tested on recorded histories). */
export function admittedFactsFromHistory(
  executionId: string,
  workflow: { id: string; run_id: string },
  events: readonly HistoryEvent[],
): AdmittedRunFacts {
  const parsed = RunWorkflowInputSchema.safeParse(startInput(events));
  if (!parsed.success) {
    throw new WorldloopError('ERR_HISTORY_MISMATCH', `${workflow.id} did not start with a run request`);
  }
  const { scheduled, results } = activityOutcomes(events);
  const admitted = decodePayload<AdmitResult>(results.get('admit'));
  if (!admitted)
    throw new WorldloopError('ERR_HISTORY_MISMATCH', `the history of ${workflow.id} has no completed admit`);
  const { request } = parsed.data;
  return {
    execution_id: executionId,
    workflow,
    processor_ref: request.processor_ref,
    plan: request.plan,
    inputs: request.inputs,
    admitted: {
      write_prefix: admitted.write_prefix,
      image: admitted.image,
      image_digest: admitted.image_digest,
      platform: admitted.platform,
      adapter: admitted.adapter,
      mode: admitted.mode,
      runtime: admitted.runtime,
      inputs_hash: admitted.inputs_hash,
      env_fingerprint: admitted.env_fingerprint,
      cache_key: admitted.cache_key,
      reserve_micro: admitted.reserve_micro,
      secret_names: admitted.secret_names,
      ...(admitted.config ? { config: admitted.config } : {}),
      ...(admitted.input_artifacts?.length ? { input_artifacts: admitted.input_artifacts } : {}),
    },
    cache_hit: scheduled.has('settleCached') && !scheduled.has('execute'),
  };
}

/** Reads a completed run's facts from Temporal; a run that has not completed cannot be verified yet. */
export async function admittedRunFacts(client: Client, executionId: string): Promise<AdmittedRunFacts> {
  const description = await describeRun(client, executionId);
  if (description.status.name !== 'COMPLETED') {
    throw new WorldloopError(
      'ERR_USAGE',
      `run ${executionId} is ${description.status.name}; only a completed run has outputs to verify`,
    );
  }
  const history = await runHandle(client, executionId).fetchHistory();
  return admittedFactsFromHistory(
    executionId,
    { id: description.workflowId, run_id: description.runId },
    history.events ?? [],
  );
}
